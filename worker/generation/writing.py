"""What every copy job shares: generate candidates, verify them, compose, check the whole.

A job plans units (sentence slots with a template sentence each) and prompts (one per unit
the model should try); `Writer` runs the prompts, verifies every sentence, composes the text
and returns it with its provenance and audit trail.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from shared.schemas.generation import GenerationOptions
from worker.contract import JobContext, Outcome, QualityCheckFailed
from worker.generation import candidates
from worker.generation.candidates import Generation, PromptSpec
from worker.generation.checks import CheckResult, final_checks
from worker.generation.compose import (
    Piece,
    Unit,
    compose,
    join,
    model_share,
    verify_generations,
    word_count,
)
from worker.generation.facts import FactSheet
from worker.generation.models import GenerationModels
from worker.generation.verify import Verifier


def min_words_for(max_words: int) -> int:
    """Shortest acceptable text: a quarter of the asked length, at least five words."""
    return max(5, math.ceil(max_words * 0.25))


@dataclass
class Writer:
    """One job's generation run: its backend, verifier, seed and everything generated."""

    models: GenerationModels
    context: JobContext
    options: GenerationOptions
    facts: FactSheet
    seed: int = 0
    generations: list[Generation] = field(default_factory=list)

    def __post_init__(self) -> None:
        settings = self.context.settings
        self.seed = self.options.seed if self.options.seed is not None else random.randrange(
            2**31 - 1000)
        self.candidates = settings.candidates_for(self.models.device)
        self.verifier = Verifier(self.facts, self.models.require_embedder(),
                                 block_unsupported=settings.block_unsupported_facts,
                                 min_support=settings.min_support)

    @property
    def variant(self) -> int:
        """Which template variant to use: fixed by the seed, so runs are reproducible."""
        return self.seed % 7

    def generate(self, specs: list[PromptSpec], **check_options) -> list[Generation]:
        """Run the prompts (all candidates in one burst) and verify every sentence."""
        made = candidates.generate(self.models.require_generation(), specs,
                                   candidates=self.candidates,
                                   temperature=self.options.temperature, seed=self.seed,
                                   context=self.context)
        verify_generations(made, self.verifier, {s.key: s.source for s in specs},
                           language=self.options.language, **check_options)
        self.generations += made
        return made

    def compose(self, units: list[Unit], max_words: int) -> list[Piece]:
        return compose(units, self.generations, max_words)

    def require_enough(self, pieces: list[Piece], min_words: int, what: str) -> None:
        """`quality_check_failed` is for inputs too thin to say anything true at length."""
        count = word_count(pieces)
        if count < min_words:
            raise QualityCheckFailed(
                f"the input has too few facts to write {what} of at least {min_words} words "
                f"(only {count} verifiable words); add a description, features or attributes",
                {"facts": self.facts.as_dict(), "generations": self.audit()})

    def checks(self, pieces: list[Piece], min_words: int, max_words: int) -> list[CheckResult]:
        return final_checks(pieces, min_words=min_words, max_words=max_words)

    def audit(self) -> list[dict[str, Any]]:
        return [g.as_dict() for g in self.generations]

    def metadata(self, pieces: list[Piece], checks: list[CheckResult],
                 redactions: dict[str, int]) -> dict[str, Any]:
        """What every copy result carries: provenance, checks, facts, audit, reproduction."""
        templates = sorted({g.template_id for g in self.generations})
        return {
            "sentences": [p.as_dict() for p in pieces],
            "model_share": model_share(pieces),
            "checks": {c.name: c.as_dict() for c in checks},
            "facts": self.facts.as_dict(),
            "prompt": {"template_ids": templates, "template_variant": self.variant},
            "decoding": candidates.decoding(self.candidates, self.options.temperature,
                                            self.seed),
            "generations": self.audit(),
            "timings": candidates.timings(self.generations),
            "redactions": redactions,
        }

    def outcome(self, fields: dict[str, Any], pieces: list[Piece], min_words: int,
                max_words: int, redactions: dict[str, int]) -> Outcome:
        checks = self.checks(pieces, min_words, max_words)
        failed = [c for c in checks if c.blocking and not c.passed]
        if failed:  # a bug, not a weak model: templates are built to pass these
            raise QualityCheckFailed(
                "the composed text failed " + ", ".join(f"{c.name} ({c.detail})" for c in failed),
                {"facts": self.facts.as_dict(), "generations": self.audit()})
        source = self.models.require_generation().source
        return Outcome(result={**fields, **self.metadata(pieces, checks, redactions)},
                       model_name=source.name, model_revision=source.revision)


def text_fields(pieces: list[Piece]) -> dict[str, Any]:
    text = join(pieces)
    return {"text": text, "word_count": word_count(pieces)}
