"""Refusing webhook URLs that point inside the network (server-side request forgery).

Only http and https; every address the host resolves to must be globally reachable, by
`ipaddress`'s `is_global` (IANA's special-purpose registries) plus what that misses:
- an IPv6 address that carries an IPv4 one (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible
  ::a.b.c.d, 6to4 2002::/16, Teredo 2001::/32, NAT64 64:ff9b::/96) is judged by the IPv4
  address inside too: 2002:0a00:0001:: reaches 10.0.0.1 through a 6to4 relay;
- ranges that this Python's `is_global` still calls global: multicast, 192.0.0.0/24,
  64:ff9b:1::/48 (local NAT64), fec0::/10 (site-local), 5f00::/16 (SRv6), 3fff::/20 (docs).
The operator's allowlist (VITRINE_WEBHOOK_ALLOWLIST, hosts or networks) is the only exception.
Numeric host spellings (http://2130706433/, http://127.1/, http://0x7f.1/) need nothing
special: the check is on the addresses the name resolves to, which the sender then connects
to exactly. Used at submit time and again right before sending, and on the connected peer.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = {ipaddress.ip_address(a) for a in
                      ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")}
_NOT_GLOBAL = tuple(ipaddress.ip_network(n) for n in (
    "224.0.0.0/4", "192.0.0.0/24", "ff00::/8", "64:ff9b:1::/48", "fec0::/10", "5f00::/16",
    "3fff::/20", "::/96",  # the last: IPv4-compatible addresses, deprecated since 2006
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Named for the message, most specific first (Python counts loopback as private too).
_KINDS = (("loopback", "is_loopback"), ("link-local", "is_link_local"),
          ("multicast", "is_multicast"), ("unspecified", "is_unspecified"),
          ("private", "is_private"), ("reserved", "is_reserved"))


class UnsafeUrl(ValueError):
    """A webhook URL we will not call, with the reason."""


def _allowed(host: str, address: IPAddress, allowlist: list[str]) -> bool:
    for entry in allowlist:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            if host.lower() == entry.lower():
                return True
    return False


def embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to (mapped, compatible, 6to4, Teredo, NAT64)."""
    if ip.version == 4:
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64:  # the IPv4 address is the low 32 bits
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def _describe(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address, or None when it is one."""
    if ip in METADATA_ADDRESSES:
        return f"a cloud metadata address ({ip})"
    if ip in _CGNAT:
        return f"a carrier-grade NAT address ({ip})"
    if not ip.is_global or any(ip in network for network in _NOT_GLOBAL):
        kind = next((name for name, flag in _KINDS if getattr(ip, flag)), "non-global")
        return f"a {kind} address ({ip})"
    return None


def check_address(host: str, address: str, allowlist: list[str]) -> None:
    """Raise UnsafeUrl unless `address` (resolved from `host`) is public or allowlisted."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        raise UnsafeUrl(f"{host} resolves to {address!r}, which is not an IP address") from None
    if _allowed(host, ip, allowlist):
        return
    problem = _describe(ip)
    if problem:
        raise UnsafeUrl(f"{host} resolves to {problem}")
    for inner in embedded_ipv4(ip):
        if not _allowed(host, inner, allowlist) and (problem := _describe(inner)):
            raise UnsafeUrl(f"{host} resolves to {ip}, which carries {problem}")


def check_url(url: str, allowlist: list[str], resolve=socket.getaddrinfo) -> list[str]:
    """Validate scheme and every resolved address; returns the addresses."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # e.g. a port over 65535
        raise UnsafeUrl(f"the URL cannot be parsed: {exc}") from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeUrl(f"scheme {parts.scheme or 'none'!r} is not allowed; use http or https")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    try:
        infos = resolve(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # gaierror, or an IDNA label the codec refuses
        raise UnsafeUrl(f"{parts.hostname} does not resolve: {exc}") from None
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise UnsafeUrl(f"{parts.hostname} does not resolve to any address")
    for address in addresses:
        check_address(parts.hostname, address, allowlist)
    return addresses
