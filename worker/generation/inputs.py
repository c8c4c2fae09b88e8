"""Validating a generation job's input and redacting personal data before any prompt."""

from __future__ import annotations

from collections import Counter
from typing import Any, TypeVar

from pydantic import BaseModel

from worker.generation.pii import redact_tree
from worker.runner import parse_input

Model = TypeVar("Model", bound=BaseModel)


def parse_redacted(schema: type[Model], job_input: dict[str, Any]) -> tuple[Model, dict[str, int]]:
    """The input with emails, phones and card numbers replaced, and how many of each."""
    counts: Counter = Counter()
    return parse_input(schema, redact_tree(job_input, counts)), dict(counts)


def source_text(model: BaseModel) -> str:
    """Everything the client told us, as one string the fact check searches."""
    return model.model_dump_json()
