"""Validating a generation job's input and redacting personal data before any prompt."""

from __future__ import annotations

from collections import Counter
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.schemas.base import validation_details
from worker.generation.pii import redact_tree
from worker.runner import InvalidJobInput

Model = TypeVar("Model", bound=BaseModel)


def parse_redacted(schema: type[Model], job_input: dict[str, Any]) -> tuple[Model, dict[str, int]]:
    """The input with emails, phones and card numbers replaced, and how many of each."""
    counts: Counter = Counter()
    redacted = redact_tree(job_input, counts)
    try:
        return schema.model_validate(redacted), dict(counts)
    except ValidationError as exc:
        problems = "; ".join(f"{d['path']}: {d['problem']}" for d in validation_details(exc))
        raise InvalidJobInput(problems) from None


def source_text(model: BaseModel) -> str:
    """Everything the client told us, as one string the fact check searches."""
    return model.model_dump_json()
