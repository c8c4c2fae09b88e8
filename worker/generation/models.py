"""What the generation handlers use: one set per worker process, built by GenerationFamily."""

from __future__ import annotations

from dataclasses import dataclass

from worker.generation.intents import IntentClassifier
from worker.models.embeddings import Embedder
from worker.models.registry import GenerationBackend


@dataclass(frozen=True)
class GenerationModels:
    device: str
    backend: GenerationBackend  # the in-process batcher or an OpenAI-compatible server
    embedder: Embedder  # verifies every sentence against the facts
    intents: IntentClassifier  # what a social message is about

    def require_generation(self) -> GenerationBackend:
        return self.backend

    def require_embedder(self) -> Embedder:
        return self.embedder
