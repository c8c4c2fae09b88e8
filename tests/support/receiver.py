"""A real webhook receiver on 127.0.0.1 whose answers each test scripts per path."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering: a receiver that hangs
    body: bytes = b"ok"
    # > 0: send the body one byte at a time, this many seconds apart (a trickling receiver
    # that never lets a socket read time out)
    trickle_s: float = 0.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """Answers each path with its script in order (the last answer repeats); records all."""

    def __init__(self) -> None:
        self._scripts: dict[str, list[Answer]] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.requests: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = receiver._next_answer(self.path)
                with receiver._arrived:
                    receiver.requests.append(Received(self.path, dict(self.headers), body,
                                                      time.time()))
                    receiver._arrived.notify_all()
                time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    if not answer.trickle_s:
                        self.wfile.write(answer.body)
                    for byte in answer.body if answer.trickle_s else b"":
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(answer.trickle_s)
                except OSError:
                    pass  # the sender gave up (timeout) and closed the connection

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def script(self, path: str, *answers: Answer | int) -> str:
        """Set how `path` answers; returns its URL."""
        self._scripts[path] = [a if isinstance(a, Answer) else Answer(a) for a in answers]
        return self.url(path)

    def _next_answer(self, path: str) -> Answer:
        with self._lock:
            script = self._scripts.get(path, [Answer(404)])
            return script.pop(0) if len(script) > 1 else script[0]

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def wait(self, path: str, count: int = 1, timeout: float = 60) -> list[Received]:
        """Block until `path` has received `count` requests; returns them."""
        with self._arrived:
            if not self._arrived.wait_for(
                    lambda: sum(r.path == path for r in self.requests) >= count, timeout):
                raise TimeoutError(f"{path} received fewer than {count} requests in {timeout}s")
            return [r for r in self.requests if r.path == path]
