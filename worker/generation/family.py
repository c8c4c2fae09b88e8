"""The generation family: the four copy job types and the pitches of personalised
recommendations, sharing one generation backend, the embedding model that verifies their
sentences and the intent classifier, set up once per worker process."""

from __future__ import annotations

from shared.settings import Settings
from worker.contract import Handler, bind
from worker.generation.copywriting import describe_product
from worker.generation.intents import IntentClassifier
from worker.generation.language import detect
from worker.generation.marketing import write_marketing_copy
from worker.generation.models import GenerationModels
from worker.generation.seo import write_seo_metadata
from worker.generation.social import reply_to_social
from worker.models.registry import ModelRegistry
from worker.personalised.pitches import write_pitches

WRITERS = {
    "product_description": describe_product,
    "seo_metadata": write_seo_metadata,
    "marketing_copy": write_marketing_copy,
    "social_reply": reply_to_social,
    # The second step (`write`) of a personalised_recommendations job.
    "personalised_recommendations": write_pitches,
}


class GenerationFamily:
    name = "generation"
    needs = ("generation", "embedding")

    def __init__(self) -> None:
        self._models: GenerationModels | None = None

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        embedder = models.require_embedder()
        self._models = GenerationModels(
            device=device, backend=models.require_generation(), embedder=embedder,
            intents=IntentClassifier(embedder))
        # Loaded on first use otherwise, inside the first job (about 2 s and 0.7 s here): the
        # language identifier every sentence is checked with, and the English word list
        # the verifier tells invented names by (imported late there too: it is heavy).
        from wordfreq import zipf_frequency

        detect("Loads the language identifier now.")
        zipf_frequency("the", "en")

    def handler(self, job_type: str) -> Handler:
        return bind(WRITERS[job_type], self._models)
