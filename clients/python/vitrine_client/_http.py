"""Sending a Call: base URL, key, retries on connection errors (and 429/503) with backoff."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from vitrine_client._calls import LONG_POLL_MAX_S, RETRY_STATUSES, Call
from vitrine_client.errors import ConnectionFailed, error_from

DEFAULT_TIMEOUT_S = 30.0


def _delay(attempt: int, response: httpx.Response | None) -> float:
    if response is not None:
        try:
            return min(float(response.headers.get("retry-after", "")), 30.0)
        except ValueError:
            pass
    return min(0.25 * 2 ** attempt, 8.0)


def _timeout(call: Call, timeout_s: float) -> httpx.Timeout:
    wait = float((call.params or {}).get("wait") or 0)
    # A long-poll holds the answer up to `wait` seconds: read for at least that long.
    return httpx.Timeout(timeout_s, read=timeout_s + min(wait, LONG_POLL_MAX_S))


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "User-Agent": "vitrine-client/0.1"}


class SyncTransport:
    def __init__(self, url: str, key: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_retries: int = 3, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(base_url=url.rstrip("/"), headers=_headers(key))
        if http is not None:
            self.http.headers.update(_headers(key))
        self.timeout_s, self.max_retries = timeout_s, max_retries

    def _request(self, call: Call, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            response = None
            try:
                request = self.http.build_request(
                    call.method, call.path, params=call.params, json=call.json,
                    content=call.content, headers=call.headers,
                    timeout=_timeout(call, self.timeout_s))
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if not call.retry or attempt >= self.max_retries:
                    raise ConnectionFailed(f"{call.method} {call.path}: {exc!r}") from exc
            else:
                if response.status_code not in RETRY_STATUSES or not call.retry \
                        or attempt >= self.max_retries:
                    return response
                response.close()
            time.sleep(_delay(attempt, response))
            attempt += 1

    def send(self, call: Call) -> Any:
        response = self._request(call)
        if response.is_error:
            raise error_from(response)
        return response.json()

    def lines(self, call: Call) -> Iterator[str]:
        response = self._request(call, stream=True)
        try:
            if response.is_error:
                response.read()
                raise error_from(response)
            yield from (line for line in response.iter_lines() if line)
        finally:
            response.close()

    def close(self) -> None:
        self.http.close()


class AsyncTransport:
    def __init__(self, url: str, key: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_retries: int = 3, http: httpx.AsyncClient | None = None) -> None:
        self.http = http or httpx.AsyncClient(base_url=url.rstrip("/"), headers=_headers(key))
        if http is not None:
            self.http.headers.update(_headers(key))
        self.timeout_s, self.max_retries = timeout_s, max_retries

    async def _request(self, call: Call, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            response = None
            try:
                request = self.http.build_request(
                    call.method, call.path, params=call.params, json=call.json,
                    content=call.content, headers=call.headers,
                    timeout=_timeout(call, self.timeout_s))
                response = await self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if not call.retry or attempt >= self.max_retries:
                    raise ConnectionFailed(f"{call.method} {call.path}: {exc!r}") from exc
            else:
                if response.status_code not in RETRY_STATUSES or not call.retry \
                        or attempt >= self.max_retries:
                    return response
                await response.aclose()
            await asyncio.sleep(_delay(attempt, response))
            attempt += 1

    async def send(self, call: Call) -> Any:
        response = await self._request(call)
        if response.is_error:
            raise error_from(response)
        return response.json()

    async def lines(self, call: Call) -> AsyncIterator[str]:
        response = await self._request(call, stream=True)
        try:
            if response.is_error:
                await response.aread()
                raise error_from(response)
            async for line in response.aiter_lines():
                if line:
                    yield line
        finally:
            await response.aclose()

    async def close(self) -> None:
        await self.http.aclose()
