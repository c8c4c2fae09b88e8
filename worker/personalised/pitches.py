"""Step two of `personalised_recommendations`: a short, true pitch for each ranked item.

A pitch is `<link to the shopper's history>: <a sentence about the item>`, plus a second
sentence about the item where the channel has room. The link is written from the history
item step one chose (so it names only what the shopper really bought, carted or viewed);
the item sentence is the best verified model sentence that fits the channel, else the
item's template opening (true by construction). All items' prompts go to the model at once.
"""

from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass
from typing import Any

from shared.schemas.generation import Product
from shared.schemas.personalised import (
    EMAIL_SUBJECT_LIMIT,
    PITCH_LIMITS,
    Channel,
    PersonalisedRecommendationsInput,
)
from worker.contract import JobContext, Outcome, QualityCheckFailed, parse_input
from worker.generation import candidates
from worker.generation.candidates import Generation, PromptSpec
from worker.generation.compose import Piece, verify_generations
from worker.generation.facts import FactSheet
from worker.generation.models import GenerationModels
from worker.generation.prompts import INTRODUCE_PRODUCT, option_values
from worker.generation.templates import fact_sentences, opening
from worker.generation.text import words
from worker.generation.verify import Verifier
from worker.personalised import phrases
from worker.personalised.grounding import ungrounded_words

TEMPERATURE = 0.7
CHARS_PER_WORD = 6.5  # English product copy, spaces and punctuation included
LINK_ALLOWANCE = 45  # characters a "Because you bought the X: " lead usually takes


@dataclass
class ItemPlan:
    """One ranked item: its facts, verifier, and the sentences that may pitch it."""

    item: dict[str, Any]
    facts: FactSheet
    verifier: Verifier
    key: str

    def names(self) -> set[str]:
        return {w.lower() for w in words(f"{self.facts.name} {self.facts.brand or ''}")}

    def name_variants(self) -> list[str]:
        return phrases.name_variants(self.facts.name, self.facts.brand)

    def names_it(self, text: str) -> bool:
        lowered = text.lower()
        return any(n.lower() in lowered
                   for n in phrases.recognisable_names(self.facts.name, self.facts.brand))


def _item_sentences(plan: ItemPlan, generations: list[Generation], tone: str, language: str,
                    variant: int) -> list[Piece]:
    """Sentences that introduce the item, best first: verified model sentences that name
    it (most supported first), then template openings with shorter and shorter names."""
    kept = sorted((v for g in generations if g.key == plan.key for v in g.verdicts
                   if v.kept and plan.names_it(v.text)),
                  key=lambda v: -v.support)
    parts = [Piece(v.text, "model", "opening", v.support) for v in kept]
    template = opening(plan.facts, tone, language, variant)
    if template:
        parts.append(Piece(template, "template", "opening"))
    for short in plan.name_variants()[1:]:
        shorter = dataclasses.replace(plan.facts, name=short)
        text = opening(shorter, tone, language, variant)
        if text:
            parts.append(Piece(text, "template", "opening"))
    return parts


def _prompt_name(plan: ItemPlan, room: int) -> str:
    """The name the model is given: the longest way to say it that leaves the sentence room
    (a model repeats the name it is given, and a sentence longer than the channel is lost)."""
    fitting = [n for n in plan.name_variants() if len(n) <= max(25, room // 3)]
    return fitting[0] if fitting else plan.name_variants()[-1]


def _prompt_fact(plan: ItemPlan, variant: int, room: int) -> str:
    """The fact the model restates: the first of the item's leading facts short enough to
    make a sentence that fits, else the shortest of them."""
    leading = [source for _, source in fact_sentences(plan.facts, variant)[:3]]
    if not leading:
        return plan.facts.title
    return next((f for f in leading if len(f) <= room), min(leading, key=len))


def _leads(item: dict[str, Any], language: str) -> tuple[list[str], str | None]:
    """Ways to say why this item, longest first, and the interest tag used (if any)."""
    link = item.get("link")
    if link:
        return phrases.because(language, link["event"], item["link_name"],
                               item.get("link_brand")), None
    tag = item.get("interest")  # one of the shopper's top tags that this item is
    if tag and (leads := phrases.interest(language, tag)):
        return leads, tag
    return [], None


def _pitch(plan: ItemPlan, sentences: list[Piece], leads: list[str], limit: int,
           language: str, with_second: bool, variant: int) -> list[Piece]:
    """The parts of the best pitch within `limit` characters: with a link if any fits.
    The item's own name is the last thing shortened: every shorter way of naming the
    shopper's item is tried with a sentence before that sentence gives way to one with a
    shorter item name (a pitch that cuts the product it sells reads wrong)."""
    for sentence in sentences:
        for lead in leads:
            text = phrases.joined(lead, sentence.text, language, plan.names())
            if len(text) <= limit:
                # Each part as it reads in the pitch (the audit keeps the model's own text).
                shown = dataclasses.replace(sentence, text=phrases.after_colon(
                    sentence.text, language, plan.names()))
                first = [Piece(lead, "template", "because"), shown]
                return _with_second(plan, first, text, limit, with_second, variant)
    for sentence in sentences:
        if len(sentence.text) <= limit:
            return _with_second(plan, [sentence], sentence.text, limit, with_second, variant)
    shortest = plan.name_variants()[-1]
    if len(shortest) >= limit:  # no way to say it fits: cut at a word
        shortest = shortest[: limit - 1].rsplit(" ", 1)[0]
    return [Piece(f"{shortest}.", "template", "opening")]


# First words by which a description's sentence shows it goes on about the product.
ABOUT_THE_ITEM = {"it", "its", "it's", "this", "these", "they", "each", "both", "our"}


def _reads_alone(sentence: str, plan: ItemPlan) -> bool:
    """Whether a sentence of the item's facts reads right after its pitch, out of its
    description: it names the item (a word of its name, brand or kind) or goes on about it
    ("It ...", "This ..."); no question, and nothing about something else ("Being a Mom is a
    full-time job.")."""
    said = [w.lower() for w in words(sentence)]
    if not said or sentence.rstrip().endswith("?"):
        return False
    names = plan.names() | set((plan.facts.product_type or "").lower().split())
    return said[0] in ABOUT_THE_ITEM or bool(names & set(said))


def _with_second(plan: ItemPlan, parts: list[Piece], text: str, limit: int, wanted: bool,
                 variant: int) -> list[Piece]:
    if not wanted:
        return parts
    for sentence, _ in fact_sentences(plan.facts, variant):
        if len(text) + 1 + len(sentence) <= limit and sentence not in text \
                and _reads_alone(sentence, plan):
            return [*parts, Piece(sentence, "template", "fact:0")]
    return parts


def render(parts: list[Piece], language: str) -> str:
    if parts and parts[0].unit == "because":
        text = f"{parts[0].text}{phrases.COLON.get(language, ': ')}{parts[1].text}"
        rest = parts[2:]
    else:
        text, rest = parts[0].text, parts[1:]
    return " ".join([text, *(p.text for p in rest)])


def _named(name: str, brand: str | None, lead: str) -> str:
    """The form of the shopper's item name the lead uses (it may be shortened)."""
    return next((n for n in phrases.name_variants(name, brand) if n in lead), name)


def _same_sentence(verified: str, shown: str) -> bool:
    """The verified sentence as shown in a pitch (its first letter may be lowered)."""
    return verified[1:] == shown[1:] and verified[:1].lower() == shown[:1].lower()


def _subject(plan: ItemPlan, language: str) -> str:
    for subject in phrases.subjects(language, plan.facts.name, plan.facts.brand):
        if len(subject) <= EMAIL_SUBJECT_LIMIT:
            return subject
    return plan.name_variants()[-1][:EMAIL_SUBJECT_LIMIT].rstrip()


def _checks(pitch: str, plan: ItemPlan, parts: list[Piece], limit: int,
            history_ids: set[str]) -> dict[str, dict[str, Any]]:
    link = plan.item.get("link")
    named = [link["item_id"]] if link and parts[0].unit == "because" else []
    return {
        "channel_length": {"passed": len(pitch) <= limit, "chars": len(pitch),
                           "limit": limit, "blocking": True},
        "names_product": {"passed": plan.names_it(pitch),
                          "blocking": True},
        "history_only": {"passed": set(named) <= history_ids, "named": named,
                         "blocking": True},
        "facts_verified": {"passed": all(p.source == "template" or p.support is not None
                                         for p in parts),
                           "model_sentences": sum(p.source == "model" for p in parts),
                           "blocking": True},
    }


def _ground(generations: list[Generation], plan: ItemPlan) -> None:
    """A kept model sentence with words the item's facts do not hold is not kept (see
    worker.personalised.grounding); the audit says which words."""
    for generation in generations:
        for verdict in generation.verdicts:
            if verdict.kept and (extra := ungrounded_words(verdict.text, plan.facts)):
                verdict.problems.append(f"words not in the item's facts: {extra}")


def _passed(checks: dict[str, dict[str, Any]]) -> bool:
    return all(c["passed"] for c in checks.values() if c.get("blocking"))


def write_pitches(job_input: dict[str, Any], models: GenerationModels,
                  context: JobContext) -> Outcome:
    started = time.time()
    request = parse_input(PersonalisedRecommendationsInput, job_input)
    state = context.step_state
    settings = context.settings
    seed = request.seed if request.seed is not None else random.randrange(2**31 - 1000)
    variant = seed % 7
    limit = PITCH_LIMITS[request.channel]
    embedder = models.require_embedder()
    plans = []
    for index, item in enumerate(state.get("items", [])):
        facts = FactSheet.from_product(Product.model_validate(item["product"]))
        plans.append(ItemPlan(item, facts, Verifier(
            facts, embedder, block_unsupported=settings.block_unsupported_facts,
            min_support=settings.min_support), key=f"{index}:opening"))
    values = option_values(request.tone, None, request.language)
    max_words = max(10, min(30, int((limit - LINK_ALLOWANCE) / CHARS_PER_WORD)))
    specs = []
    room = limit - LINK_ALLOWANCE
    for plan in plans:
        fact = _prompt_fact(plan, variant, room)
        specs.append(PromptSpec(plan.key, INTRODUCE_PRODUCT,
                                {**values, "name": _prompt_name(plan, room), "fact": fact},
                                max_words=max_words, source=fact))
    context.report_progress({"state": "generating", "items": len(plans)}, force=True)
    count = settings.candidates_for(models.device)
    generated: list[Generation] = []
    if specs:
        generated = candidates.generate(models.require_generation(), specs, candidates=count,
                                        temperature=TEMPERATURE, seed=seed, context=context)
    context.report_progress({"state": "verifying", "items": len(plans)}, force=True)
    for done, (plan, spec) in enumerate(zip(plans, specs, strict=True)):
        mine = [g for g in generated if g.key == plan.key]
        verify_generations(mine, plan.verifier, {spec.key: spec.source},
                           language=request.language)
        _ground(mine, plan)
        # A cancel is seen here too (the report raises JobCanceled), not only after the last.
        context.report_progress({"state": "verifying", "items": len(plans), "done": done + 1})

    history_ids = {e.item_id for e in request.events if e.item_id}
    shopper = state.get("shopper", {})
    out, model_words, all_words = [], 0, 0
    for plan in plans:
        leads, tag = _leads(plan.item, request.language)
        sentences = _item_sentences(plan, generated, request.tone, request.language, variant)
        parts = _pitch(plan, sentences, leads, limit, request.language,
                       with_second=request.channel is not Channel.PUSH, variant=variant)
        checks = _checks(render(parts, request.language), plan, parts, limit, history_ids)
        if not _passed(checks):  # the template's pitch, true by construction, instead
            parts = _pitch(plan, [p for p in sentences if p.source == "template"], leads,
                           limit, request.language,
                           with_second=request.channel is not Channel.PUSH, variant=variant)
        pitch = render(parts, request.language)
        checks = _checks(pitch, plan, parts, limit, history_ids)
        if not _passed(checks):
            raise QualityCheckFailed(
                f"item {plan.item['id']}: no pitch passes its checks: "
                f"{sorted(n for n, c in checks.items() if not c['passed'])}",
                {"item": plan.item["id"], "pitch": pitch, "checks": checks,
                 "generations": [g.as_dict() for g in generated if g.key == plan.key]})
        for generation in generated:
            if generation.key == plan.key:
                generation.used = [v.text for v in generation.verdicts for p in parts
                                   if p.source == "model" and _same_sentence(v.text, p.text)]
        words_here = sum(len(words(p.text)) for p in parts)
        model_here = sum(len(words(p.text)) for p in parts if p.source == "model")
        model_words, all_words = model_words + model_here, all_words + words_here
        link = plan.item.get("link") if parts[0].unit == "because" and tag is None else None
        out.append({
            "id": plan.item["id"], "rank": plan.item["rank"], "score": plan.item["score"],
            "reason": plan.item["reason"], "reason_text": plan.item["reason_text"],
            "title": plan.item["title"], "pitch": pitch,
            "subject": _subject(plan, request.language)
            if request.channel is Channel.EMAIL else None,
            "because": {"item_id": link["item_id"],
                        "name": _named(plan.item["link_name"], plan.item.get("link_brand"),
                                       parts[0].text),
                        "event": link["event"], "similarity": link["similarity"]}
            if link else None,
            "interest": tag if parts[0].unit == "because" else None,
            "pitch_sources": [p.as_dict() for p in parts],
            "model_share": round(model_here / words_here, 3) if words_here else 0.0,
            "checks": checks,
        })
    source = models.require_generation().source
    waited = started - state["handed_off_at"] if "handed_off_at" in state else None
    result = {
        "items": out, "channel": request.channel.value,
        "limits": {"pitch": limit, **({"subject": EMAIL_SUBJECT_LIMIT}
                                      if request.channel is Channel.EMAIL else {})},
        "shopper": {"segment": shopper.get("segment", "prospect"),
                    "top_tags": shopper.get("top_tags", []), "rfm": shopper.get("rfm", {})},
        "strategy": state.get("strategy", "popular"),
        "catalog_version": state.get("catalog_version", 0),
        "model_share": round(model_words / all_words, 3) if all_words else 0.0,
        "timings": {"rank_s": state.get("rank_s"),
                    "between_steps_s": round(max(0.0, waited), 3) if waited is not None
                    else None,
                    "write_s": round(time.time() - started, 3),
                    **candidates.timings(generated)},
        "decoding": candidates.decoding(count, TEMPERATURE, seed),
        "generations": [g.as_dict() for g in generated],
    }
    return Outcome(result=result, model_name=source.name, model_revision=source.revision)
