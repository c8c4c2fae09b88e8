"""`Vitrine(url, key)`: jobs and batches over HTTP, synchronously."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from vitrine_client import _calls as calls
from vitrine_client._http import DEFAULT_TIMEOUT_S, SyncTransport
from vitrine_client.csv_lines import lines_from_csv
from vitrine_client.errors import WaitTimeout


class Jobs:
    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def create(self, type: str, input: dict[str, Any], **options: Any) -> dict[str, Any]:
        """Submit a job (`priority`, `webhook`, `idempotency_key` optional)."""
        return self._t.send(calls.create_job(type, input, **options))

    def get(self, job_id: str, *, wait: float | None = None) -> dict[str, Any]:
        return self._t.send(calls.get_job(job_id, wait))

    def list(self, **filters: Any) -> dict[str, Any]:
        """One page: `type`, `status`, `limit`, `cursor`; the next page's cursor in
        `next_cursor`."""
        return self._t.send(calls.list_jobs(**filters))

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self._t.send(calls.cancel_job(job_id))

    def wait(self, job_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        """The job once terminal (long-polls, no busy loop); WaitTimeout after `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            job = self.get(job_id, wait=calls.next_wait(remaining))
            if job["status"] in calls.TERMINAL_JOB:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(f"job {job_id} is still {job['status']} after {timeout}s")


class Batches:
    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def create(self, lines: Iterable[Mapping[str, Any]], **options: Any) -> dict[str, Any]:
        """Submit lines `{custom_id, type, input, priority?}` (`webhook_url`, `job_events`,
        `idempotency_key` optional); invalid lines come back in `invalid_lines`."""
        return self._t.send(calls.create_batch(calls.jsonl(lines), **options))

    def from_jsonl(self, path: str | Path, **options: Any) -> dict[str, Any]:
        return self._t.send(calls.create_batch(Path(path).read_bytes(), **options))

    def from_csv(self, path: str | Path, *, type: str, mapping: Mapping[str, str],
                 id_column: str | None = None, constants: Mapping[str, Any] | None = None,
                 **options: Any) -> dict[str, Any]:
        """One job per CSV row, its input fields taken from the mapped columns."""
        lines = lines_from_csv(path, job_type=type, mapping=mapping, id_column=id_column,
                               constants=constants)
        return self.create(lines, **options)

    def get(self, batch_id: str, *, wait: float | None = None) -> dict[str, Any]:
        return self._t.send(calls.get_batch(batch_id, wait))

    def list(self, **page: Any) -> dict[str, Any]:
        return self._t.send(calls.list_batches(**page))

    def cancel(self, batch_id: str) -> dict[str, Any]:
        return self._t.send(calls.cancel_batch(batch_id))

    def retry(self, batch_id: str) -> dict[str, Any]:
        """A new batch of this batch's failed lines."""
        return self._t.send(calls.retry_batch(batch_id))

    def wait(self, batch_id: str, *, timeout: float | None = None,
             on_progress: Callable[[dict[str, Any]], None] | None = None,
             interval: float | None = None) -> dict[str, Any]:
        """The batch once ended. With `on_progress`, it is called with the batch every
        `interval` seconds (default 1) instead of long-polling to the end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            hold = calls.next_wait(remaining)
            if on_progress is not None:
                hold = min(hold, interval or 1.0)
            batch = self.get(batch_id, wait=hold)
            if on_progress is not None:
                on_progress(batch)
            if calls.batch_ended(batch):
                return batch
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(f"batch {batch_id} is still in progress after {timeout}s")

    def results(self, batch_id: str, *, status: Iterable[str] | str | None = None
                ) -> Iterator[dict[str, Any]]:
        """Its results so far, streamed: custom_id, job_id, status, result, error."""
        for line in self._t.lines(calls.batch_results(batch_id, status)):
            yield json.loads(line)


class Vitrine:
    """A client for one API and key: `jobs` and `batches`."""

    def __init__(self, url: str, key: str, *, timeout: float = DEFAULT_TIMEOUT_S,
                 max_retries: int = 3, http: httpx.Client | None = None) -> None:
        self._transport = SyncTransport(url, key, timeout_s=timeout, max_retries=max_retries,
                                        http=http)
        self.jobs = Jobs(self._transport)
        self.batches = Batches(self._transport)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Vitrine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
