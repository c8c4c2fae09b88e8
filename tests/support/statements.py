"""The statements an engine runs meanwhile, for tests that count or explain them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event


@dataclass(frozen=True)
class Ran:
    sql: str  # as the driver got it: IN lists expanded, placeholders for the values
    parameters: Any

    @property
    def one_line(self) -> str:
        return " ".join(self.sql.split())


@contextlib.contextmanager
def recorded_statements(engine: Engine) -> Iterator[list[Ran]]:
    ran: list[Ran] = []

    def record(_connection, _cursor, statement, parameters, *_args) -> None:
        ran.append(Ran(statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield ran
    finally:
        event.remove(engine, "before_cursor_execute", record)
