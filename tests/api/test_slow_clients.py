"""Slow clients cannot starve the API: real gunicorn as deployed, 200 trickling connections.

Loopback only, bounded: the trickling stops by itself when each test ends.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
import requests

from tests.support.server import ApiServer

SLOW_CLIENTS = 200
EVENT = {"type": "view", "timestamp": "2011-05-01T10:00:00Z", "title": "RED MUG"}


class Tricklers:
    """Connections that send one byte per tick: half still in their headers, half in a body."""

    def __init__(self, port: int, auth: str, count: int, tick_s: float = 0.2) -> None:
        self.tick_s = tick_s
        self.pending: list[tuple[socket.socket, bytes]] = []
        body_head = (f"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{").encode()
        header_only = b"GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 10_000
        for index in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            if index % 2:  # headers done, the body comes a byte at a time
                sock.sendall(body_head)
                self.pending.append((sock, b" " * 100_000))
            else:  # the header itself comes a byte at a time
                self.pending.append((sock, header_only))
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        offset = 0
        while not self._stop.wait(self.tick_s):
            for sock, data in self.pending:
                try:
                    sock.send(data[offset:offset + 1])
                except OSError:
                    self.failed += 1
            offset += 1

    def alive(self) -> int:
        """Connections the server still holds open (it has not answered or closed them)."""
        open_count = 0
        for sock, _ in self.pending:
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)  # an answer or a close: no longer waiting
            except BlockingIOError:
                open_count += 1  # nothing to read and not closed: still waiting on us
            except OSError:
                pass
            finally:
                sock.setblocking(True)
        return open_count

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock, _ in self.pending:
            sock.close()


@pytest.fixture(scope="module")
def server(api_only):
    """The API under gunicorn with the production settings (api.gunicorn_conf)."""
    server = ApiServer(api_only.env, name="api-slow-clients")
    yield server
    server.stop()


def _timed(call) -> tuple[float, int]:
    started = time.perf_counter()
    response = call()
    return time.perf_counter() - started, response.status_code


def test_200_slow_clients_do_not_delay_healthz_or_a_normal_post(server, api_only):
    auth = api_only.auth()
    tricklers = Tricklers(server.port, auth["Authorization"], SLOW_CLIENTS)
    try:
        time.sleep(1.0)  # every connection is in the server, each at a different stage
        assert tricklers.alive() >= SLOW_CLIENTS - 5
        probes = []
        for _ in range(5):
            probes.append(("healthz", *_timed(
                lambda: requests.get(f"{server.url}/healthz", timeout=10))))
            probes.append(("post", *_timed(lambda: requests.post(
                f"{server.url}/v1/jobs", json={"type": "user_profile",
                                              "input": {"events": [EVENT]}},
                headers=auth, timeout=10))))
        # Still trickling while we were served: they were being read, not dropped.
        assert tricklers.alive() >= SLOW_CLIENTS - 5 and tricklers.failed == 0
    finally:
        tricklers.close()
    assert {(name, status) for name, _, status in probes} == {("healthz", 200), ("post", 202)}
    slowest = max(seconds for _, seconds, _ in probes)
    assert slowest < 1.0, probes


def _until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(4096):  # the socket's 10 s timeout bounds each wait
        received += chunk
    return received


def test_stalled_headers_and_bodies_are_cut_off(api_only):
    server = ApiServer(dict(api_only.env, VITRINE_BODY_TIMEOUT_S="1"), "--keep-alive", "1",
                       name="api-short-timeouts")
    try:
        body = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        body.sendall(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 50\r\n\r\n{")
        header = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        header.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        answer = _until_closed(body)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"request_timeout" in answer  # then closed: the leftovers are not a request
        assert re.search(rb"\r\nX-Request-Id: [0-9a-f]{32}\r\n", answer), answer
        assert _until_closed(header) == b""  # closed without an answer: it never finished
    finally:
        server.stop()
