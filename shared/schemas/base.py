"""Shared pydantic config and the conversion of validation errors to `{path, problem}`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

# Timestamps outside this range are typos or attacks, never shopping: a purchase dated year 1
# decays to a weight of exactly 0.0 (0.5 ** 4000 underflows) and turned scores into NaN.
EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIMESTAMP = datetime(2100, 1, 1, tzinfo=UTC)
_RANGE = f"from {EARLIEST_TIMESTAMP:%Y-%m-%d} up to {LATEST_TIMESTAMP:%Y-%m-%d} (UTC)"


class StrictModel(BaseModel):
    """Unknown fields are errors: a typo in a field name should not be silently ignored.

    `Infinity` and `NaN` are refused in every float field (also as the strings "inf" or "nan",
    which lax mode would otherwise turn into floats): they are not JSON and poison arithmetic.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def _sane_utc(value: datetime) -> datetime:
    """Naive timestamps are taken as UTC; aware ones are converted; the range is checked."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-02:00 is past the last datetime once in UTC
        raise ValueError(f"timestamp must be {_RANGE}") from None
    if not EARLIEST_TIMESTAMP <= value < LATEST_TIMESTAMP:
        raise ValueError(f"timestamp must be {_RANGE}")
    return value


Timestamp = Annotated[
    datetime, AfterValidator(_sane_utc),
    Field(description=f"ISO 8601, {_RANGE}; without an offset it is read as UTC."),
]


def json_path(location: tuple[str | int, ...], prefix: str = "") -> str:
    """('events', 3, 'price') -> 'events[3].price' (with an optional leading prefix)."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "$"


def validation_details(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Each pydantic error as {'path': 'input.events[0].price', 'problem': '...'}."""
    details = []
    for item in error.errors(include_url=False):
        # Model-level validators report an empty location plus their own message.
        location = tuple(p for p in item["loc"] if not str(p).startswith("function-"))
        problem = item["msg"].removeprefix("Value error, ")
        details.append({"path": json_path(location, prefix), "problem": problem})
    return details
