"""Real processes for tests: a private Redis, Celery workers and beat, with readable logs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll until predicate() is truthy; return its value or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A redis-server on a free loopback port that keeps nothing on disk, like the real one."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (scripts/install installs it)")
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        wait_for(lambda: self._ping(client), 10, what="redis to start")

    @staticmethod
    def _ping(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class LoggedProcess:
    """A subprocess whose combined output is collected so tests can wait for log lines."""

    def __init__(self, args: list[str], env: dict[str, str], name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if os.environ.get("VITRINE_TEST_ECHO"):
                sys.stderr.write(f"[{self.name}] {line}")

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def wait_for_log(self, text: str, timeout: float, times: int = 1) -> None:
        def seen() -> bool:
            if self.process.poll() is not None and self.count(text) < times:
                raise RuntimeError(
                    f"{self.name} exited ({self.process.returncode}):\n{self.output[-4000:]}")
            return self.count(text) >= times
        try:
            wait_for(seen, timeout, what=f"{text!r} in {self.name} output")
        except TimeoutError as exc:
            tail = self.output[-4000:]
            raise TimeoutError(f"{exc}\n--- {self.name} output ---\n{tail}") from None

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def celery_command(*args: str, app: str = "tests.support.worker_app") -> list[str]:
    return [sys.executable, "-m", "celery", "-A", app, *args]


def start_worker(env: dict[str, str], *, queues: str, concurrency: int, name: str,
                 app: str = "tests.support.worker_app", pool: str = "prefork") -> LoggedProcess:
    args = celery_command("worker", "-Q", queues, "-c", str(concurrency), "-P", pool, "-n",
                          f"{name}@%h", "--without-mingle", "--without-gossip", app=app)
    return LoggedProcess(args, env, name)


def start_beat(env: dict[str, str], schedule_dir: Path) -> LoggedProcess:
    args = celery_command("beat", "-s", str(schedule_dir / "celerybeat-schedule"))
    return LoggedProcess(args, env, "beat")
