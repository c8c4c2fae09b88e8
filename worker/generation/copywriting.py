"""`product_description` and `marketing_copy`: free text from the LM, checked."""

from __future__ import annotations

import math
import re
from typing import Any

from shared.schemas.generation import MarketingCopyInput, ProductDescriptionInput
from worker.generation.attempts import (
    AttemptPlan,
    Candidate,
    engine_for,
    generate_until_clean,
    result_metadata,
)
from worker.generation.checks import CheckResult, run_text_checks
from worker.generation.inputs import parse_redacted, source_text
from worker.generation.prompts import MARKETING, PRODUCT_DESCRIPTION, option_phrases, product_facts
from worker.generation.relevance import check_relevance
from worker.generation.text import ends_sentence, fit_sentences, sentences, tidy, words
from worker.models.registry import ModelRegistry
from worker.runner import JobContext, Outcome


def min_words_for(max_words: int) -> int:
    """Shortest acceptable text: a quarter of the asked length, at least five words."""
    return max(5, math.ceil(max_words * 0.25))


def _outcome(models: ModelRegistry, fields: dict[str, Any], metadata: dict[str, Any]) -> Outcome:
    source = models.require_generator().source
    return Outcome(result={**fields, **metadata}, model_name=source.name,
                   model_revision=source.revision)


def describe_product(
    job_input: dict[str, Any], models: ModelRegistry, context: JobContext
) -> Outcome:
    settings = context.settings
    request, redactions = parse_redacted(ProductDescriptionInput, job_input)
    options = request.options
    source = source_text(request)

    facts = product_facts(request.product)
    embedder = models.require_embedder()

    def build(raw: str) -> Candidate:
        text = fit_sentences(tidy(raw), options.max_words)
        checks = run_text_checks(text, source=source, brand=request.product.brand,
                                 min_words=min_words_for(options.max_words),
                                 max_words=options.max_words,
                                 block_facts=settings.block_unsupported_facts)
        checks.append(check_relevance(embedder, text, facts))
        return Candidate({"text": text, "word_count": len(words(text))}, checks)

    plan = AttemptPlan(PRODUCT_DESCRIPTION, {**option_phrases(options), "facts": facts},
                       options.max_words, options.temperature, options.seed)
    candidate, decoding = generate_until_clean(engine_for(models, settings), plan, context,
                                               settings, build)
    return _outcome(models, candidate.fields, result_metadata(plan, decoding, candidate,
                                                              redactions))


SCENE_LABEL = re.compile(r"^\s*(?:scene \d+\s*[:.-]?\s*)", re.I | re.M)
TITLE_PREFIX = re.compile(r"^\s*(?:#+\s*|(?:title|subject|subject line)\s*:\s*)", re.I)
SCENE_LINE = re.compile(r"^\s*(?:\*\*)?(narration|on[- ]screen(?: text)?)\s*(?:\*\*)?\s*:\s*(.+)$",
                        re.I)


def _split_title(raw: str, topic: str) -> tuple[str, str]:
    lines = [line for line in tidy(raw).splitlines() if line.strip()]
    if len(lines) > 1 and len(words(lines[0])) <= 14:
        return TITLE_PREFIX.sub("", lines[0]).strip().strip('"'), "\n".join(lines[1:]).strip()
    return topic, "\n".join(lines).strip()


def parse_scenes(raw: str) -> list[dict[str, str]]:
    """NARRATION / ON SCREEN line pairs, in order, as scenes."""
    scenes: list[dict[str, str]] = []
    for line in raw.splitlines():
        match = SCENE_LINE.match(line)
        if not match:
            continue
        kind = "narration" if match.group(1).lower() == "narration" else "on_screen"
        text = match.group(2).strip().strip('"')
        if kind == "narration":
            scenes.append({"scene": len(scenes) + 1, "narration": text})
        elif scenes and "on_screen" not in scenes[-1]:
            scenes[-1]["on_screen"] = text
    return scenes


def scenes_from_sentences(raw: str, max_words: int) -> list[dict[str, Any]]:
    """When the model ignored the scene format: one scene per whole sentence, its opening
    words as the on-screen text (marked `scene_source: derived` in the result)."""
    text = fit_sentences(SCENE_LABEL.sub("", tidy(raw)), max_words)
    complete = [s for s in sentences(text) if ends_sentence(s)]
    return [{"scene": i + 1, "narration": s.strip(),
             "on_screen": " ".join(words(s)[:5])} for i, s in enumerate(complete[:5])]


def write_marketing_copy(
    job_input: dict[str, Any], models: ModelRegistry, context: JobContext
) -> Outcome:
    settings = context.settings
    request, redactions = parse_redacted(MarketingCopyInput, job_input)
    options = request.options
    source = source_text(request)
    brand = request.products[0].brand if request.products else None
    facts = "\n\n".join(product_facts(p) for p in request.products) or "- (no products given)"
    embedder = models.require_embedder()
    reference = f"{request.topic}\n{facts}" if request.products else request.topic

    def build(raw: str) -> Candidate:
        if request.format == "video_script":
            scenes, scene_source = parse_scenes(tidy(raw)), "model"
            if not scenes:
                scenes, scene_source = scenes_from_sentences(raw, options.max_words), "derived"
            text = " ".join(s["narration"] for s in scenes)
            checks = run_text_checks(text or raw, source=source, brand=brand,
                                     min_words=min_words_for(options.max_words),
                                     max_words=options.max_words,
                                     block_facts=settings.block_unsupported_facts)
            checks.append(CheckResult("script_format", len(scenes) >= 2,
                                      f"{len(scenes)} scenes ({scene_source})", True))
            checks.append(check_relevance(embedder, text, reference))
            return Candidate({"title": request.topic, "text": text, "scenes": scenes,
                              "scene_source": scene_source}, checks)
        title, body = _split_title(raw, request.topic)
        text = fit_sentences(body, options.max_words)
        checks = run_text_checks(text, source=source, brand=brand,
                                 min_words=min_words_for(options.max_words),
                                 max_words=options.max_words,
                                 block_facts=settings.block_unsupported_facts)
        checks.append(check_relevance(embedder, text, reference))
        return Candidate({"title": title, "text": text, "word_count": len(words(text))}, checks)

    template = MARKETING[request.format.value]
    plan = AttemptPlan(template, {**option_phrases(options, request.audience),
                                  "topic": request.topic, "facts": facts},
                       options.max_words, options.temperature, options.seed, extra_tokens=40)
    candidate, decoding = generate_until_clean(engine_for(models, settings), plan, context,
                                               settings, build)
    fields = {"format": request.format.value, **candidate.fields}
    return _outcome(models, fields, result_metadata(plan, decoding, candidate, redactions))
