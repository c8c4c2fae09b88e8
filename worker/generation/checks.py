"""Checks on a whole composed text before its job may succeed.

Sentences are verified one by one as they are generated (see `verify`); these checks look
at the result as the client will receive it. Each returns passed + detail; `blocking`
decides whether a failure stops the job.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.pii import find_pii
from worker.generation.compose import Piece, word_count
from worker.generation.text import ends_sentence


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str
    blocking: bool

    def as_dict(self) -> dict:
        return {"passed": self.passed, "detail": self.detail, "blocking": self.blocking}


def check_length(count: int, min_words: int, max_words: int) -> CheckResult:
    passed = min_words <= count <= max_words
    return CheckResult("length", passed, f"{count} words, asked {min_words}-{max_words}", True)


def check_complete(pieces: list[Piece]) -> CheckResult:
    cut = [p.text for p in pieces if not ends_sentence(p.text)]
    return CheckResult("complete_sentences", not cut,
                       f"ends mid-sentence: {cut[0][:60]!r}" if cut else "every sentence ends",
                       True)


def check_no_pii(text: str) -> CheckResult:
    found = find_pii(text)
    detail = ", ".join(f"{kind} x{n}" for kind, n in found.items()) or "none found"
    return CheckResult("no_personal_data", not found, detail, True)


def check_provenance(pieces: list[Piece]) -> CheckResult:
    model = sum(p.source == "model" for p in pieces)
    return CheckResult("verified_sentences", True,
                       f"{model} of {len(pieces)} sentences from the model, each verified "
                       "against the facts; the rest restate the facts", True)


def final_checks(pieces: list[Piece], *, min_words: int, max_words: int) -> list[CheckResult]:
    text = " ".join(p.text for p in pieces)
    return [
        CheckResult("not_empty", bool(pieces), f"{len(pieces)} sentences", True),
        check_length(word_count(pieces), min_words, max_words),
        check_complete(pieces),
        check_no_pii(text),
        check_provenance(pieces),
    ]
