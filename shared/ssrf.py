"""Refusing webhook URLs that point inside the network (server-side request forgery).

Only http and https; every address the host resolves to must be public: private, loopback,
link-local, multicast, reserved and cloud metadata addresses are refused unless the operator
allowlisted the host or network (VITRINE_WEBHOOK_ALLOWLIST). Used at submit time and again
right before sending, against the address actually connected to.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

METADATA_ADDRESSES = {ipaddress.ip_address(a) for a in
                      ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")}


class UnsafeUrl(ValueError):
    """A webhook URL we will not call, with the reason."""


def _allowed(host: str, address: ipaddress._BaseAddress, allowlist: list[str]) -> bool:
    for entry in allowlist:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            if host.lower() == entry.lower():
                return True
    return False


def check_address(host: str, address: str, allowlist: list[str]) -> None:
    """Raise UnsafeUrl unless `address` (resolved from `host`) is public or allowlisted."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if _allowed(host, ip, allowlist):
        return
    if ip in METADATA_ADDRESSES:
        raise UnsafeUrl(f"{host} resolves to a cloud metadata address ({ip})")
    # Most specific first: Python counts loopback and link-local as private too.
    for kind, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                       ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                       ("reserved", ip.is_reserved), ("private", ip.is_private)):
        if flag:
            raise UnsafeUrl(f"{host} resolves to a {kind} address ({ip})")


def check_url(url: str, allowlist: list[str], resolve=socket.getaddrinfo) -> list[str]:
    """Validate scheme and every resolved address; returns the addresses."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise UnsafeUrl(f"scheme {parts.scheme or 'none'!r} is not allowed; use http or https")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = resolve(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeUrl(f"{parts.hostname} does not resolve: {exc}") from None
    addresses = sorted({info[4][0] for info in infos})
    for address in addresses:
        check_address(parts.hostname, address, allowlist)
    return addresses
