"""Page cursors of the newest-first lists (jobs, batches): the last row's creation time and
id, opaque to clients; a cursor that does not decode is a 422 naming `query:cursor`."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from api.errors import ApiError


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        return datetime.fromisoformat(created), uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error):
        raise ApiError(422, "validation_error", "cursor is invalid",
                       [{"path": "query:cursor",
                         "problem": "use the next_cursor of a previous page"}]) from None
