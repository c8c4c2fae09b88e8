"""Shared pydantic config and the conversion of validation errors to `{path, problem}`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """Unknown fields are errors: a typo in a field name should not be silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
