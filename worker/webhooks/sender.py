"""One webhook POST, made safe: checked addresses only, no redirects, one deadline.

The host is resolved once; every address is checked by the SSRF guard before anything is
contacted, and the connection goes to those very addresses (a second lookup could answer
differently: DNS rebinding). The socket's peer is checked again once connected. Redirects
are never followed (http.client does not follow them), and a timer cuts the connection at
the deadline, so a receiver that trickles bytes cannot hold the sender past it.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.ssrf import UnsafeUrl, check_address, check_url

EXCERPT_BYTES = 1024
USER_AGENT = "Vitrine-Webhooks/1"


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    latency_ms: float
    error: str | None = None
    excerpt: str | None = None
    location: str | None = None
    refused: bool = False  # the SSRF guard stopped it; nothing was contacted


def _pinned_connector(host: str, port: int, addresses: list[str], allowlist: list[str]):
    """A replacement for socket.create_connection that only reaches checked addresses."""

    def connect(_address, timeout=None, source_address=None):
        last_error: OSError | None = None
        for address in addresses:
            try:
                sock = socket.create_connection((address, port), timeout, source_address)
            except OSError as exc:
                last_error = exc
                continue
            try:
                check_address(host, sock.getpeername()[0], allowlist)
            except UnsafeUrl:
                sock.close()
                raise
            return sock
        raise last_error or OSError(f"no address to connect to for {host}")

    return connect


def post(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float,
         allowlist: list[str], resolve=socket.getaddrinfo) -> PostResult:
    """POST `body` to `url`; never raises for network trouble, it is in the result."""
    started = time.monotonic()

    def elapsed_ms() -> float:
        return round((time.monotonic() - started) * 1000, 1)

    try:
        addresses = check_url(url, allowlist, resolve)
    except UnsafeUrl as exc:
        return PostResult(None, elapsed_ms(), f"refused: {exc}", refused=True)
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    connection_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
    connection = connection_class(parts.hostname, port, timeout=timeout_s)
    connection._create_connection = _pinned_connector(parts.hostname, port, addresses, allowlist)
    timed_out = threading.Event()
    # Once the answer's headers are read, http.client hands a closing connection's socket to
    # the response and forgets it (connection.sock is None), so the timer keeps its own
    # reference: without it a receiver trickling its body held the sender past the deadline.
    held: list[socket.socket] = []

    def cut() -> None:
        timed_out.set()
        for sock in (connection.sock, *held):
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    timer = threading.Timer(timeout_s, cut)
    timer.daemon = True
    timer.start()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
        held.append(connection.sock)  # connected (and TLS-wrapped) by now
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        if timed_out.is_set():
            raise TimeoutError
        return PostResult(response.status, elapsed_ms(), excerpt=excerpt or None,
                          location=response.getheader("Location"))
    except UnsafeUrl as exc:
        return PostResult(None, elapsed_ms(), f"refused: {exc}", refused=True)
    except TimeoutError:
        return PostResult(None, elapsed_ms(), f"timed out after {timeout_s:g}s")
    except (OSError, http.client.HTTPException) as exc:
        if timed_out.is_set():
            return PostResult(None, elapsed_ms(), f"timed out after {timeout_s:g}s")
        return PostResult(None, elapsed_ms(), f"{type(exc).__name__}: {exc}")
    finally:
        timer.cancel()
        connection.close()
