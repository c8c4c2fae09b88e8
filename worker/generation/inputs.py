"""Validating a generation job's input and redacting personal data before any prompt."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, TypeVar

from pydantic import BaseModel

from shared.tenant_settings import redact_personal
from worker.contract import parse_input

Model = TypeVar("Model", bound=BaseModel)


def parse_redacted(schema: type[Model], job_input: dict[str, Any]) -> tuple[Model, dict[str, int]]:
    """The input with people's e-mails, phones and card numbers replaced (product data is
    left as the shop wrote it), and how many of each there were: the API stores inputs
    redacted already, so placeholders it left count too."""
    counts: Counter = Counter()
    redacted = redact_personal(job_input, counts)
    counts = Counter({kind: len(re.findall(rf"\[{kind}\]", json.dumps(redacted)))
                      for kind in ("email", "phone", "card")})
    return parse_input(schema, redacted), dict(+counts)
