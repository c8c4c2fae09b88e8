"""Is the text about what it was asked to be about? Cosine similarity with the embedding model.

Measured on real Office products with all-MiniLM-L6-v2: copy about the product scored 0.42-0.83
against its facts, while off-topic or instruction-echo output scored 0.05-0.12 (and 0.13-0.28
against other products), so 0.3 separates them with room on both sides.
"""

from __future__ import annotations

from worker.generation.checks import CheckResult
from worker.models.embeddings import Embedder

MIN_SIMILARITY = 0.3


def similarity(embedder: Embedder, text: str, reference: str) -> float:
    vectors = embedder.encode([text, reference])
    return float(vectors[0] @ vectors[1])


def check_relevance(embedder: Embedder, text: str, reference: str) -> CheckResult:
    score = similarity(embedder, text, reference) if text.strip() else 0.0
    return CheckResult("on_topic", score >= MIN_SIMILARITY,
                       f"similarity to the input {score:.2f} (minimum {MIN_SIMILARITY})", True)
