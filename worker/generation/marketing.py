"""`marketing_copy`: articles, e-mails, social posts and video scripts about a topic and the
products given, written like product descriptions (verified sentences, facts as the floor).

Each format has an intro that names the topic, a section per product (its opening and its
first facts, within an equal share of the word budget) and a closing line. Nothing in it
claims what the products' facts do not say; with no products there is little to say, and a
text below the minimum length fails `quality_check_failed` asking for products.
"""

from __future__ import annotations

import re
from typing import Any

from shared.schemas.generation import MarketingCopyInput
from worker.contract import JobContext, Outcome
from worker.generation.compose import Piece, Unit, join, word_count
from worker.generation.copywriting import product_units
from worker.generation.facts import Fact, FactSheet
from worker.generation.inputs import parse_redacted
from worker.generation.models import GenerationModels
from worker.generation.text import words
from worker.generation.writing import Writer, min_words_for

INTROS = {
    "article": "Our guide to {topic} covers {count}.",
    "email": "Hi there! These are our picks for {topic}.",
    "social_post": "{Topic}: meet our picks.",
    "video_script": "{Topic}: these are our picks.",
}
INTROS_WITHOUT_PRODUCTS = "{Topic}."
CLOSINGS = {
    "article": "Find all of them in our shop.",
    "email": "Take a look in our shop today.",
    "social_post": "Shop the picks today.",
    "video_script": "Find them in our shop today.",
}
CLOSING_WITHOUT_PRODUCTS = "Visit our shop to see more."
FACTS_PER_PRODUCT = {"article": 3, "email": 2, "social_post": 1, "video_script": 2}
MODEL_PRODUCTS = 3  # products whose sentences the model may try to write
COUNT_WORDS = ["no products", "one product", "two products", "three products", "four products",
               "five products", "six products", "seven products", "eight products",
               "nine products", "ten products"]


def merged_facts(request: MarketingCopyInput) -> tuple[FactSheet, list[FactSheet]]:
    """One sheet per product, and their union with the topic (what every claim is checked
    against)."""
    sheets = [FactSheet.from_product(p) for p in request.products]
    topic = Fact(request.topic, "topic")
    if not sheets:
        return FactSheet(name=request.topic, title=request.topic, brand=None, product_type=None,
                         category_leaf=None, facts=[topic], identity=request.topic), []
    first = sheets[0]
    union = FactSheet(name=first.name, title=first.title, brand=first.brand,
                      product_type=first.product_type, category_leaf=first.category_leaf,
                      facts=[topic, *(f for s in sheets for f in s.facts)],
                      identity=" ".join(s.identity for s in sheets))
    return union, sheets


def _topic(topic: str, capital: bool) -> str:
    topic = topic.strip().rstrip(".!?")
    if capital:
        return topic[:1].upper() + topic[1:]
    return topic if topic[:2].isupper() else topic[:1].lower() + topic[1:]


def frame(request: MarketingCopyInput, count: int) -> tuple[Unit, Unit]:
    """The intro and closing units of the format."""
    fmt = request.format.value
    values = {"topic": _topic(request.topic, False), "Topic": _topic(request.topic, True),
              "count": COUNT_WORDS[count]}
    intro = (INTROS[fmt] if count else INTROS_WITHOUT_PRODUCTS).format(**values)
    closing = CLOSINGS[fmt] if count else CLOSING_WITHOUT_PRODUCTS
    return Unit("intro", intro), Unit("closing", closing)


def write_sections(writer: Writer, request: MarketingCopyInput, sheets: list[FactSheet]
                   ) -> tuple[Piece | None, list[list[Piece]], Piece | None]:
    """The intro, one list of pieces per product, and the closing, within max_words."""
    options = request.options
    intro, closing = frame(request, len(sheets))
    budget = options.max_words - len(words(intro.template)) - len(words(closing.template))
    per_product = max(0, budget // max(1, len(sheets)))
    plans, specs = [], []
    for index, sheet in enumerate(sheets):
        units, product_specs = product_units(sheet, options, writer.variant, per_product,
                                             prefix=f"p{index}:")
        plans.append(units[: 1 + FACTS_PER_PRODUCT[request.format.value]])
        if index < MODEL_PRODUCTS:
            specs += product_specs[: 1 + FACTS_PER_PRODUCT[request.format.value]]
    if specs:
        writer.generate(specs)
    sections = [writer.compose(units, per_product) for units in plans]
    # A product introduced with nothing said about it is not worth its place in the text.
    sections = [s if any(p.unit != f"p{i}:opening" for p in s) else []
                for i, s in enumerate(sections)]
    used = sum(word_count(s) for s in sections)
    head = Piece(intro.template, "template", "intro") if budget >= 0 else None
    tail = Piece(closing.template, "template", "closing") if (
        budget >= 0 and used + len(words(intro.template)) + len(words(closing.template))
        <= options.max_words) else None
    return head, sections, tail


def _hashtags(sheets: list[FactSheet]) -> list[str]:
    """The brands and the products' kinds as hashtags (#Swingline, #BulletinBoard)."""
    tags: list[str] = []
    for sheet in sheets:
        for phrase in (sheet.brand, sheet.product_type):
            if phrase:
                tag = "#" + "".join(w[:1].upper() + w[1:] for w in re.findall(r"[0-9A-Za-z]+",
                                                                             phrase))
                if len(tag) > 2 and tag.lower() not in {t.lower() for t in tags}:
                    tags.append(tag)
    return tags[:6]


def _scenes(head: Piece | None, sections: list[list[Piece]], tail: Piece | None,
            sheets: list[FactSheet], topic: str) -> list[dict[str, Any]]:
    scenes = []
    if head:
        scenes.append({"narration": head.text, "on_screen": topic})
    for pieces, sheet in zip(sections, sheets, strict=True):
        if pieces:
            scenes.append({"narration": join(pieces), "on_screen": sheet.name})
    if tail:
        scenes.append({"narration": tail.text, "on_screen": tail.text.rstrip(".")})
    return [{"scene": i + 1, **s} for i, s in enumerate(scenes)]


def write_marketing_copy(job_input: dict[str, Any], models: GenerationModels,
                         context: JobContext) -> Outcome:
    request, redactions = parse_redacted(MarketingCopyInput, job_input)
    options = request.options
    union, sheets = merged_facts(request)
    writer = Writer(models, context, options, union)
    head, sections, tail = write_sections(writer, request, sheets)
    pieces = [p for p in [head, *(p for s in sections for p in s), tail] if p]
    min_words = min_words_for(options.max_words)
    writer.require_enough(pieces, min_words, f"a {request.format.value.replace('_', ' ')}")
    fmt = request.format.value
    fields: dict[str, Any] = {"format": fmt, "title": request.topic.strip(),
                              "word_count": word_count(pieces)}
    if fmt == "article":
        paragraphs = [p.text for p in [head] if p] + [join(s) for s in sections if s] + [
            p.text for p in [tail] if p]
        fields |= {"text": "\n\n".join(paragraphs), "paragraphs": paragraphs}
    elif fmt == "video_script":
        scenes = _scenes(head, sections, tail, sheets, request.topic.strip())
        fields |= {"text": join(pieces), "scenes": scenes, "scene_source": "composed"}
    else:
        fields["text"] = join(pieces)
        if fmt == "social_post":
            fields["hashtags"] = _hashtags(sheets)
    return writer.outcome(fields, pieces, min_words, options.max_words, redactions)
