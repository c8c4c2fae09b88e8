"""The models one worker process holds, loaded once at process start for the families its
queues need (worker.runtime), and shared by them: one embedding model serves them all."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from shared.settings import Settings
from worker.models.embeddings import Embedder
from worker.models.encode_batching import SharedEncoder
from worker.models.generation import Generator
from worker.models.sources import ModelLoadError, ModelSource, embedding_source, generation_source


def resolve_sources(kinds: Iterable[str], settings: Settings) -> dict[str, ModelSource]:
    """Find every model's files without importing torch: safe in the forking parent."""
    sources = {}
    for kind in kinds:
        if kind == "embedding":
            sources[kind] = embedding_source(settings.embedding_model)
        elif kind == "generation" and settings.generation_backend == "openai":
            sources[kind] = ModelSource(settings.openai_base_url, settings.openai_model,
                                        "openai-compatible", "VITRINE_OPENAI_BASE_URL")
        elif kind == "generation":
            sources[kind] = generation_source(
                settings.generation_model, settings.generation_gguf_file
            )
    return sources


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("VITRINE_DEVICE=cuda but no CUDA device is available")
    return requested


class GenerationBackend(Protocol):
    """What generation jobs talk to: the in-process batcher or an OpenAI-compatible server."""

    source: ModelSource

    def submit(self, request) -> Future: ...


def load_generation_backend(source: ModelSource, device: str,
                            settings: Settings) -> GenerationBackend:
    if settings.generation_backend == "openai":
        from worker.models.openai_backend import OpenAICompatibleBackend

        backend = OpenAICompatibleBackend(
            base_url=settings.openai_base_url, model=settings.openai_model,
            api_key=settings.openai_api_key, timeout_s=settings.openai_timeout_s,
            max_retries=settings.openai_max_retries, concurrency=settings.openai_concurrency)
        backend.check()
        return backend
    generator = Generator.load(source, device)
    if settings.generation_scheduler == "continuous":
        from worker.generation.continuous import ContinuousBatcher  # imports torch

        return ContinuousBatcher(generator, max_batch_size=settings.generation_max_batch_size)
    from worker.generation.engine import BatchingGenerator  # imports torch: children only

    return BatchingGenerator(generator, max_batch_size=settings.generation_max_batch_size,
                             max_wait_ms=settings.generation_max_wait_ms)


@dataclass
class ModelRegistry:
    """Loaded models by kind; a family asking for one its worker did not load is misrouted."""

    embedder: Embedder | None = None
    generation: GenerationBackend | None = None
    # Concurrent jobs of a threads-pool worker encode their few texts in shared batches.
    shared_encoder: SharedEncoder | None = None

    @classmethod
    def load(cls, sources: dict[str, ModelSource], device: str,
             settings: Settings) -> ModelRegistry:
        registry = cls()
        if "embedding" in sources:
            registry.embedder = Embedder.load(sources["embedding"], device)
            registry.shared_encoder = SharedEncoder(registry.embedder)
        if "generation" in sources:
            registry.generation = load_generation_backend(sources["generation"], device,
                                                          settings)
        return registry

    def require_embedder(self) -> Embedder:
        if self.embedder is None:
            raise RuntimeError("this worker has no embedding model; is the job on the cpu queue?")
        return self.embedder

    def require_shared_encoder(self) -> SharedEncoder:
        self.require_embedder()
        return self.shared_encoder

    def require_generation(self) -> GenerationBackend:
        if self.generation is None:
            raise RuntimeError("this worker has no generation model; is the job on the gpu queue?")
        return self.generation
