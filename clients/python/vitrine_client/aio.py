"""`AsyncVitrine(url, key)`: the same calls as `Vitrine`, as coroutines."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from vitrine_client import _calls as calls
from vitrine_client._http import DEFAULT_TIMEOUT_S, AsyncTransport
from vitrine_client.csv_lines import lines_from_csv
from vitrine_client.errors import WaitTimeout


class AsyncJobs:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, type: str, input: dict[str, Any], **options: Any) -> dict[str, Any]:
        return await self._t.send(calls.create_job(type, input, **options))

    async def get(self, job_id: str, *, wait: float | None = None) -> dict[str, Any]:
        return await self._t.send(calls.get_job(job_id, wait))

    async def list(self, **filters: Any) -> dict[str, Any]:
        return await self._t.send(calls.list_jobs(**filters))

    async def cancel(self, job_id: str) -> dict[str, Any]:
        return await self._t.send(calls.cancel_job(job_id))

    async def wait(self, job_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            job = await self.get(job_id, wait=calls.next_wait(remaining))
            if job["status"] in calls.TERMINAL_JOB:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(f"job {job_id} is still {job['status']} after {timeout}s")


class AsyncBatches:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def create(self, lines: Iterable[Mapping[str, Any]], **options: Any) -> dict[str, Any]:
        return await self._t.send(calls.create_batch(calls.jsonl(lines), **options))

    async def from_jsonl(self, path: str | Path, **options: Any) -> dict[str, Any]:
        return await self._t.send(calls.create_batch(Path(path).read_bytes(), **options))

    async def from_csv(self, path: str | Path, *, type: str, mapping: Mapping[str, str],
                       id_column: str | None = None,
                       constants: Mapping[str, Any] | None = None,
                       **options: Any) -> dict[str, Any]:
        lines = lines_from_csv(path, job_type=type, mapping=mapping, id_column=id_column,
                               constants=constants)
        return await self.create(lines, **options)

    async def get(self, batch_id: str, *, wait: float | None = None) -> dict[str, Any]:
        return await self._t.send(calls.get_batch(batch_id, wait))

    async def list(self, **page: Any) -> dict[str, Any]:
        return await self._t.send(calls.list_batches(**page))

    async def cancel(self, batch_id: str) -> dict[str, Any]:
        return await self._t.send(calls.cancel_batch(batch_id))

    async def retry(self, batch_id: str) -> dict[str, Any]:
        return await self._t.send(calls.retry_batch(batch_id))

    async def wait(self, batch_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            batch = await self.get(batch_id, wait=calls.next_wait(remaining))
            if calls.batch_ended(batch):
                return batch
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(f"batch {batch_id} is still in progress after {timeout}s")

    async def results(self, batch_id: str, *, status: Iterable[str] | str | None = None
                      ) -> AsyncIterator[dict[str, Any]]:
        async for line in self._t.lines(calls.batch_results(batch_id, status)):
            yield json.loads(line)


class AsyncVitrine:
    """The async client: `await vitrine.jobs.wait(...)`."""

    def __init__(self, url: str, key: str, *, timeout: float = DEFAULT_TIMEOUT_S,
                 max_retries: int = 3, http: httpx.AsyncClient | None = None) -> None:
        self._transport = AsyncTransport(url, key, timeout_s=timeout,
                                         max_retries=max_retries, http=http)
        self.jobs = AsyncJobs(self._transport)
        self.batches = AsyncBatches(self._transport)

    async def aclose(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> AsyncVitrine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
