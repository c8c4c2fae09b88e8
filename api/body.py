"""Reading a JSON request body with 415/400 errors that say what was wrong."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from api.errors import ApiError


def json_body() -> Any:
    """The parsed JSON body; 415 when not declared as JSON, 400 when it does not parse."""
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type",
            f"expected Content-Type: application/json, got {request.mimetype or 'none'!r}",
        )
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else "body"
        raise ApiError(
            400, "malformed_json", f"request body is not valid JSON: {exc}",
            [{"path": "$", "problem": f"invalid JSON at {where}"}],
        ) from None


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(
            422, "validation_error", "request body must be a JSON object",
            [{"path": "$", "problem": f"expected an object, got {type(body).__name__}"}],
        )
    return body
