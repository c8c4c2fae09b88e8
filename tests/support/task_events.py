"""A real Celery event receiver (what Flower and `celery events` consume), in a thread."""

from __future__ import annotations

import threading
from typing import Any

from celery import Celery

from tests.support.processes import wait_for


class TaskEvents:
    """Collects every event the workers send on the broker while it runs."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery
        self.events: list[dict[str, Any]] = []
        self._receiver = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._capture, daemon=True)

    def __enter__(self) -> TaskEvents:
        self._thread.start()
        assert self._ready.wait(10), "the event receiver did not start"
        # `wakeup` asks every worker for a heartbeat: once one arrives, the receiver's queue
        # is bound and no task event can slip past it.
        wait_for(lambda: self.events, 20, what="a first event (worker heartbeat)")
        return self

    def __exit__(self, *exc_info) -> None:
        if self._receiver is not None:
            self._receiver.should_stop = True
        self._thread.join(10)

    def _capture(self) -> None:
        with self.celery.connection_for_read() as connection:
            self._receiver = self.celery.events.Receiver(
                connection, handlers={"*": self.events.append})
            self._ready.set()
            self._receiver.capture(limit=None, timeout=None, wakeup=True)

    def task_id_for(self, job_id: str, timeout: float = 60) -> str:
        """The id of the task that received `job_id` (the task's only argument)."""
        return wait_for(lambda: next((e["uuid"] for e in list(self.events)
                                      if e["type"] == "task-received"
                                      and job_id in e.get("args", "")), None),
                        timeout, what=f"a task-received event for job {job_id}")

    def final(self, task_id: str, timeout: float = 60) -> dict[str, Any]:
        """The task's task-succeeded or task-failed event."""
        return wait_for(lambda: next((e for e in list(self.events) if e.get("uuid") == task_id
                                      and e["type"] in {"task-succeeded", "task-failed"}),
                                     None), timeout, what=f"task {task_id} to finish")
