"""The API under real gunicorn, configured as scripts/up and compose run it (api.gunicorn_conf)."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from tests.support.processes import LoggedProcess, free_port, wait_for


class ApiServer:
    """gunicorn serving api.wsgi:app on a free loopback port; output kept for log checks."""

    def __init__(self, env: dict[str, str], *flags: str, name: str = "api",
                 wsgi: str = "api.wsgi:app") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "gunicorn", "-c", "python:api.gunicorn_conf",
                "--bind", f"127.0.0.1:{self.port}", *flags, wsgi]
        self.process = LoggedProcess(args, env, name)
        wait_for(self._answers, 60, what=f"{name} to answer /healthz")

    def _answers(self) -> bool:
        if self.process.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.process.output[-4000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    @property
    def output(self) -> str:
        return self.process.output

    def stop(self) -> None:
        self.process.stop()
