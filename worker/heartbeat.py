"""A daemon thread in each worker process that runs jobs: it records that the process is
alive every VITRINE_HEARTBEAT_INTERVAL_S (shared.heartbeats says what the records are for)."""

from __future__ import annotations

import logging
import os
import socket
import threading

from shared import heartbeats
from shared.db import Database

log = logging.getLogger("vitrine.heartbeat")


class Heartbeat:
    """Started once per process, after its set-up; a failed write is logged and retried."""

    def __init__(self, db: Database, queues: str, interval_s: float) -> None:
        self.db = db
        self.queues = queues
        self.interval_s = interval_s
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vitrine-heartbeat",
                                        daemon=True)

    def start(self) -> Heartbeat:
        self.beat()  # before the first job: a job is never claimed by a silent process
        self._thread.start()
        return self

    def beat(self) -> None:
        try:
            with self.db.session() as session:
                heartbeats.beat(session, self.host, self.pid, self.queues)
        except Exception as exc:
            log.warning("event=heartbeat_failed pid=%d error=%r", self.pid, exc)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.beat()
