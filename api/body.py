"""Reading a JSON request body: bounded before parsing, strict while parsing, checked after.

- size: Werkzeug stops reading past VITRINE_MAX_BODY_BYTES (413);
- nesting: at most MAX_JSON_DEPTH levels, counted over the raw bytes before the (recursive)
  parser sees them: 10,000 nested arrays used to end in a RecursionError and a 500;
- numbers: integers within 64 bits, floats finite; `NaN` and `Infinity` are not JSON;
- strings: the character rule of shared.schemas.text, in keys and values (422 with the path).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from operator import sub
from typing import Any

from flask import request

from api.errors import ApiError
from shared.schemas.text import FORBIDDEN_CHARACTERS, forbidden_strings

MAX_JSON_DEPTH = 32
MAX_INT = 2**63 - 1  # what a PostgreSQL bigint (and every JSON client with 64-bit ints) holds
_INT_DIGITS = len(str(MAX_INT))

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Opening brackets become 2 and closing ones 0, so that the running sum minus the position is
# the depth: the scan runs in C (accumulate, map); a 1 MiB body of brackets takes ~0.1 s.
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
# A cheap first look for characters the text rule refuses, literally or as \u escapes; a hit
# is confirmed (and given its path) by walking the parsed document. Two plain searches cost
# a fifth of one case-insensitive alternation.
_REFUSED_ESCAPE = re.compile(r"\\u(?:00[01][0-9a-fA-F]|007[fF]|00[89][0-9a-fA-F]|202[a-eA-E]"
                             r"|206[6-9]|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _may_hold_refused_characters(text: str) -> bool:
    return FORBIDDEN_CHARACTERS.search(text) is not None or (
        "\\u" in text and _REFUSED_ESCAPE.search(text) is not None)


class _OutOfRange(ValueError):
    """A number JSON can spell but we do not take; carries the literal as written."""

    def __init__(self, literal: str, problem: str) -> None:
        super().__init__(problem)
        self.literal, self.problem = literal, problem


class _Marked:
    """Stands in for a refused number on the second, locating parse."""

    def __init__(self, error: _OutOfRange) -> None:
        self.error = error


def json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays and objects, brackets inside strings not counted."""
    skeleton = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if not skeleton:
        return 0
    steps = skeleton.translate(_STEPS)
    return max(map(sub, accumulate(steps), range(1, len(steps) + 1)))


def _parse_int(literal: str) -> int:
    digits = literal.lstrip("-")
    if len(digits) > _INT_DIGITS or abs(int(literal)) > MAX_INT:
        raise _OutOfRange(literal, "integers must be between -2^63 and 2^63-1")
    return int(literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _OutOfRange(literal, "numbers must be finite (at most about 1.8e308)")
    return value


def _parse_constant(literal: str) -> float:
    raise _OutOfRange(literal, f"{literal} is not JSON; numbers must be finite")


def _marking(parse):
    def mark(literal: str):
        try:
            return parse(literal)
        except _OutOfRange as error:
            return _Marked(error)
    return mark


def _find_marked(value: Any, path: str = "") -> tuple[str, _OutOfRange] | None:
    if isinstance(value, _Marked):
        return path or "$", value.error
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        child = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
        found = _find_marked(item, child)
        if found:
            return found
    return None


def _number_error(text: str) -> ApiError:
    """Re-parse, keeping refused numbers as markers, to say where the first one is."""
    document = json.loads(text, parse_int=_marking(_parse_int),
                          parse_float=_marking(_parse_float),
                          parse_constant=_marking(_parse_constant))
    path, error = _find_marked(document) or ("$", None)
    literal = error.literal if error else "?"
    shown = literal if len(literal) <= 40 else f"{literal[:20]}...({len(literal)} characters)"
    return ApiError(422, "validation_error", f"number {shown} is out of range",
                    [{"path": path, "problem": f"{shown}: {error.problem if error else ''}"}])


def _malformed(problem: str) -> ApiError:
    return ApiError(400, "malformed_json", f"request body is not valid JSON: {problem}",
                    [{"path": "$", "problem": problem}])


def parse_json(raw: bytes) -> Any:
    """Parse a request body under the rules in the module docstring."""
    # Fewer brackets than the limit cannot nest deeper than it: most bodies skip the scan.
    brackets = raw.count(b"[") + raw.count(b"{")
    depth = json_depth(raw) if brackets > MAX_JSON_DEPTH else 0
    if depth > MAX_JSON_DEPTH:
        raise ApiError(400, "too_deeply_nested",
                       f"request body nests arrays and objects {depth} levels deep; "
                       f"at most {MAX_JSON_DEPTH} are accepted",
                       [{"path": "$", "problem": f"nested more than {MAX_JSON_DEPTH} levels"}])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _malformed(f"not UTF-8 (byte {exc.start})") from None
    try:
        document = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                              parse_constant=_parse_constant)
    except _OutOfRange:
        raise _number_error(text) from None
    except json.JSONDecodeError as exc:
        raise _malformed(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # belt and braces: never a 500 for a body
        raise _malformed(str(exc)[:200]) from None
    if _may_hold_refused_characters(text):
        problems = [{"path": path, "problem": problem}
                    for path, problem in forbidden_strings(document)]
        if problems:
            raise ApiError(422, "validation_error", "request contains characters that are "
                           "not accepted", problems[:20])
    return document


def json_body() -> Any:
    """The parsed JSON body; 415 when not declared as JSON, 400/422 as parse_json says."""
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type",
            f"expected Content-Type: application/json, got {request.mimetype or 'none'!r}",
        )
    return parse_json(request.get_data(cache=True))  # raises 413 past MAX_CONTENT_LENGTH


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(
            422, "validation_error", "request body must be a JSON object",
            [{"path": "$", "problem": f"expected an object, got {type(body).__name__}"}],
        )
    return body
