"""`social_reply`: intent and sentiment from the embedding model, the reply from the LM.

Intent and sentiment are zero-shot: the message is compared with labelled example messages
(embedded once per process) and takes the label of its nearest examples. Complaints about
refunds, safety or abuse are escalated to a person.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np

from shared.schemas.generation import SocialReplyInput
from worker.generation.attempts import (
    AttemptPlan,
    Candidate,
    engine_for,
    generate_until_clean,
    result_metadata,
)
from worker.generation.checks import run_text_checks
from worker.generation.copywriting import min_words_for
from worker.generation.inputs import parse_redacted, source_text
from worker.generation.prompts import SOCIAL_REPLY, product_facts
from worker.generation.text import fit_sentences, tidy
from worker.models.embeddings import Embedder
from worker.models.registry import ModelRegistry
from worker.runner import JobContext, Outcome

INTENT_EXAMPLES: dict[str, list[str]] = {
    "question": [
        "Does this come in other colours?", "What size should I order?",
        "When will my order ship?", "Is this compatible with my printer?",
        "How long does delivery take to Canada?", "Can I wash this in the machine?",
    ],
    "complaint": [
        "My order arrived broken and nobody answers my emails.", "This is the worst service ever.",
        "I want a refund, the product stopped working after two days.",
        "The package never arrived and I was still charged.",
        "The charger overheated and burned my desk, this is dangerous.",
        "Your delivery driver was rude and threatened me.",
    ],
    "praise": [
        "Love this notebook, best purchase this year!", "Amazing quality, thank you so much!",
        "Fast shipping and great customer service.", "These pens are fantastic, highly recommend.",
    ],
    "purchase_intent": [
        "I want to buy this, where can I order it?", "How do I order two of these?",
        "Take my money! Is it in stock?", "I'd like to buy this as a gift, do you ship today?",
    ],
    "spam": [
        "Click here to win a free iPhone!!!", "Earn $5000 a week from home, DM me",
        "Follow my page for free followers", "Crypto investment opportunity, guaranteed returns",
    ],
    "other": [
        "Hello", "Happy Friday everyone", "Who else is watching the game tonight?",
        "Nice weather today",
    ],
}
SENTIMENT_EXAMPLES: dict[str, list[str]] = {
    "positive": ["I love it, thank you!", "Great product and quick delivery.",
                 "Really happy with my purchase."],
    "neutral": ["When does the sale end?", "Is this available in blue?",
                "I ordered it yesterday."],
    "negative": ["Terrible, it broke after a day.", "I am very disappointed and angry.",
                 "This is unacceptable, I want my money back."],
}
ESCALATION_TERMS = re.compile(
    r"\b(refund|money back|charge ?back|chargeback|reimburse|unsafe|danger|dangerous|injur|"
    r"burn|fire|smoke|overheat|shock|toxic|recall|choking|allerg|abus|harass|threat|rude|"
    r"lawyer|legal action|police|sue)\w*", re.I)
NEIGHBOURS = 2


class ZeroShotClassifier:
    """Labels by the mean similarity of the `NEIGHBOURS` nearest examples of each label."""

    def __init__(self, embedder: Embedder, examples: dict[str, list[str]]) -> None:
        self.embedder = embedder
        self.labels = list(examples)
        self.vectors = {label: embedder.encode(texts) for label, texts in examples.items()}

    def classify(self, text: str) -> tuple[str, dict[str, float]]:
        query = self.embedder.encode([text])[0]
        scores = {}
        for label, vectors in self.vectors.items():
            nearest = np.sort(vectors @ query)[-NEIGHBOURS:]
            scores[label] = round(float(nearest.mean()), 4)
        return max(scores, key=scores.get), scores


_classifiers: dict[tuple[int, str], ZeroShotClassifier] = {}
_lock = threading.Lock()


def classifier(embedder: Embedder, kind: str) -> ZeroShotClassifier:
    examples = INTENT_EXAMPLES if kind == "intent" else SENTIMENT_EXAMPLES
    with _lock:
        key = (id(embedder), kind)
        if key not in _classifiers:
            _classifiers[key] = ZeroShotClassifier(embedder, examples)
        return _classifiers[key]


def needs_escalation(intent: str, message: str) -> bool:
    """A complaint (or any message) about refunds, safety or abuse goes to a person."""
    mentions = ESCALATION_TERMS.search(message) is not None
    return mentions and intent in {"complaint", "question", "other"}


def reply_to_social(
    job_input: dict[str, Any], models: ModelRegistry, context: JobContext
) -> Outcome:
    settings = context.settings
    request, redactions = parse_redacted(SocialReplyInput, job_input)
    embedder = models.require_embedder()
    intent, intent_scores = classifier(embedder, "intent").classify(request.message)
    sentiment, sentiment_scores = classifier(embedder, "sentiment").classify(request.message)
    escalate = needs_escalation(intent, request.message)
    base = {"intent": intent, "sentiment": sentiment, "escalate": escalate,
            "scores": {"intent": intent_scores, "sentiment": sentiment_scores}}
    generator_source = models.require_generator().source
    if intent == "spam":
        # Answering spam only feeds it; the shop hides or reports it instead.
        return Outcome(result={"reply": "", **base, "checks": {}, "attempts": [],
                               "redactions": redactions},
                       model_name=generator_source.name, model_revision=generator_source.revision)
    options = request.options
    source = source_text(request)

    def build(raw: str) -> Candidate:
        text = fit_sentences(tidy(raw), options.max_words)
        checks = run_text_checks(text, source=source,
                                 brand=request.product.brand if request.product else None,
                                 min_words=min(min_words_for(options.max_words), 5),
                                 max_words=options.max_words,
                                 block_facts=settings.block_unsupported_facts)
        return Candidate({"reply": text}, checks)

    values = {
        "platform": request.platform,
        "author": f" (@{request.author})" if request.author else "",
        "message": request.message,
        "intent": intent.replace("_", " ") + (", escalated to a person" if escalate else ""),
        "voice": f"\nBrand voice: {request.brand_voice}." if request.brand_voice else "",
        "product": f"\nProduct:\n{product_facts(request.product)}" if request.product else "",
        "tone": options.tone,
        "max_words": str(options.max_words),
    }
    plan = AttemptPlan(SOCIAL_REPLY, values, options.max_words, options.temperature,
                       options.seed)
    candidate, decoding = generate_until_clean(engine_for(models, settings), plan, context,
                                               settings, build)
    return Outcome(result={**candidate.fields, **base,
                           **result_metadata(plan, decoding, candidate, redactions)},
                   model_name=generator_source.name, model_revision=generator_source.revision)
