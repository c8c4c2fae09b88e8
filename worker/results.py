"""What a handler may return: a JSON document every database and client can take back.

Python's json writes NaN and Infinity (not JSON: SQLite stored them and GET answered
`"score": NaN`; PostgreSQL refused them after the handler had finished, and the job stayed
`running`); PostgreSQL's jsonb refuses U+0000 and no UTF-8 holds an unpaired surrogate.
A result with any of these fails its job with `model_error`, naming the handler and the path.
"""

from __future__ import annotations

import math
import re
from typing import Any

UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def _child(path: str, part: str | int) -> str:
    return f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}"


def json_problem(value: Any, path: str = "result") -> str | None:
    """Why `value` is not a storable JSON document (the first problem, with its path)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} is {value!r}, which is not JSON"
    if isinstance(value, str):
        match = UNSTORABLE_CHARACTERS.search(value)
        return (f"{path} contains U+{ord(match.group()):04X}, which cannot be stored"
                if match else None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has a key of type {type(key).__name__}; JSON keys are strings"
            if problem := json_problem(key, f"{path} key") or json_problem(item,
                                                                         _child(path, key)):
                return problem
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if problem := json_problem(item, _child(path, index)):
                return problem
        return None
    return f"{path} is a {type(value).__name__}, which is not a JSON type"


def printable_message(message: str, limit: int = 2000) -> str:
    """An error message that can always be stored (it may quote the bad input)."""
    return UNSTORABLE_CHARACTERS.sub("\ufffd", message)[:limit]
