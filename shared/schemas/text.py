"""The one rule for characters in client strings, wherever they arrive (body, query, path, header).

Refused, never stripped (a silently changed title or idempotency key is worse than a clear 422):
- C0 control characters except tab, line feed and carriage return (U+0000-U+0008, U+000B,
  U+000C, U+000E-U+001F): NUL cannot be stored by PostgreSQL and the rest are never text;
- DEL and the C1 controls (U+007F-U+009F);
- bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they make
  text render in an order other than the stored one ("Trojan Source"); the marks U+200E and
  U+200F, which right-to-left text needs, stay allowed;
- unpaired surrogates (U+D800-U+DFFF, reachable through JSON `\\ud800` escapes): not
  encodable as UTF-8, so no database or client could take them back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

FORBIDDEN_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
RULE = ("control characters (other than tab and line breaks), bidirectional overrides and "
        "unpaired surrogates are not accepted")


def character_problem(text: str) -> str | None:
    """Why `text` is refused, naming the first offending character and its index, or None."""
    match = FORBIDDEN_CHARACTERS.search(text)
    if match is None:
        return None
    char = match.group()
    name = unicodedata.name(char, "control character" if ord(char) < 0xD800 else "surrogate")
    return f"contains U+{ord(char):04X} ({name}) at index {match.start()}; {RULE}"


def _child(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def forbidden_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(JSON path, problem) for every string, key or value, in a parsed JSON document."""
    if isinstance(value, str):
        problem = character_problem(value)
        if problem:
            yield path or "$", problem
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = character_problem(key)
            if problem:
                yield path or "$", f"key {key[:40]!r} {problem}"
            yield from forbidden_strings(item, _child(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from forbidden_strings(item, _child(path, index))
