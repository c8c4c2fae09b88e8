"""Fixtures for worker unit tests that need the real embedding model."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedder():
    """all-MiniLM-L6-v2 from the offline package, loaded once (as a worker loads it)."""
    from worker.models.embeddings import Embedder
    from worker.models.sources import embedding_source

    return Embedder.load(embedding_source(""), "cpu")


@pytest.fixture(scope="session")
def intents(embedder):
    """The zero-shot intent and sentiment classifiers over that model (as a gpu worker has)."""
    from worker.generation.intents import IntentClassifier

    return IntentClassifier(embedder)
