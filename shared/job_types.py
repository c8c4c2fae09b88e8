"""Every job type, declared once: its schemas, queue, time limits, model family, batching.

The API validates inputs and writes /openapi.json from this table, Celery routes by it, the
worker registers one task per entry and hands it to the entry's family. Operators override a
type's queue or limits with VITRINE_QUEUE_ROUTES and VITRINE_TIME_LIMITS (shared.settings).
A new job type is one entry here plus one family module (README: "Adding a job type").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pydantic import BaseModel

from shared.queues import CPU_QUEUE, GPU_QUEUE, TRAINING_QUEUE
from shared.schemas.catalogs import RecommendationInput, TrainRecommenderInput
from shared.schemas.generation import (
    MarketingCopyInput,
    ProductDescriptionInput,
    SeoMetadataInput,
    SocialReplyInput,
)
from shared.schemas.personalised import PersonalisedRecommendationsInput
from shared.schemas.results import (
    MarketingCopyResult,
    PersonalisedRecommendationsResult,
    ProductDescriptionResult,
    RecommendationResult,
    SeoMetadataResult,
    SocialReplyResult,
    TrainRecommenderResult,
    UserProfileResult,
)
from shared.schemas.user_profile import UserProfileInput


@dataclass(frozen=True)
class Step:
    """A later step of a multi-step job: it runs on its own queue, by its own family, after
    the step before it handed over (worker/contract.py: Outcome.next_step). The job stays
    one job throughout: one id, one progress, one result, one webhook."""

    name: str
    queue: str
    family: str


@dataclass(frozen=True)
class JobType:
    """One kind of job, as clients submit it and workers run it."""

    name: str
    summary: str
    input_schema: type[BaseModel]
    result_schema: type[BaseModel] | None
    queue: str
    family: str  # the worker family that runs it (worker/contract.py: Family.name)
    # (soft, hard) seconds; None: VITRINE_DEFAULT_SOFT/HARD_TIME_LIMIT_S.
    time_limits_s: tuple[float, float] | None = None
    # Concurrent jobs share the model's forward passes: their worker should run one process
    # with a threads pool (`-P threads -c N`), where one batcher sees them all.
    batches: bool = False
    # Steps after the first (which runs on `queue` by `family`); each step's time limits are
    # the type's. The first step's handler names the next one in its Outcome.
    steps: tuple[Step, ...] = ()
    first_step: str = "run"  # the first step's name, as failures and progress quote it

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"job type {self.name!r} has no step {name!r}")


JobTypes = Mapping[str, JobType]

BUILT_IN: tuple[JobType, ...] = (
    JobType("user_profile", "Behaviour features, an RFM segment and interest tags for a shopper",
            UserProfileInput, UserProfileResult, CPU_QUEUE, "profiling",
            time_limits_s=(60.0, 90.0)),
    JobType("recommendation", "Ranked items for a shopper from a catalog or inline candidates",
            RecommendationInput, RecommendationResult, CPU_QUEUE, "recommendation",
            batches=True),
    JobType("train_recommender", "Train a catalog's sequential recommender on its shopper "
            "events", TrainRecommenderInput, TrainRecommenderResult, TRAINING_QUEUE,
            "training", time_limits_s=(3600.0, 3660.0)),
    JobType("product_description", "A product description, every sentence checked against "
            "the product's facts", ProductDescriptionInput, ProductDescriptionResult,
            GPU_QUEUE, "generation", batches=True),
    JobType("seo_metadata", "Meta title, description, keywords, slug and image alt text",
            SeoMetadataInput, SeoMetadataResult, GPU_QUEUE, "generation", batches=True),
    JobType("marketing_copy", "An article, e-mail, social post or video script about products",
            MarketingCopyInput, MarketingCopyResult, GPU_QUEUE, "generation", batches=True),
    JobType("social_reply", "A reply to a customer's message, or a holding reply and a person",
            SocialReplyInput, SocialReplyResult, GPU_QUEUE, "generation", batches=True),
    # Ranking and profiling on the cpu lane, then the pitches on the gpu lane: one job.
    JobType("personalised_recommendations", "Ranked items for a shopper, each with a short "
            "pitch true to the item that names what the shopper bought or viewed",
            PersonalisedRecommendationsInput, PersonalisedRecommendationsResult, CPU_QUEUE,
            "personalised_ranking", first_step="rank",
            steps=(Step("write", GPU_QUEUE, "generation"),)),
)


def table(job_types: Iterable[JobType]) -> JobTypes:
    """Name -> JobType; a name declared twice is a mistake, not an override."""
    by_name: dict[str, JobType] = {}
    for job_type in job_types:
        if job_type.name in by_name:
            raise ValueError(f"job type {job_type.name!r} is declared twice")
        by_name[job_type.name] = job_type
    return MappingProxyType(by_name)
