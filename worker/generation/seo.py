"""`seo_metadata`: parse the LM's four lines, repair what is off, fall back to the product.

The limits always hold: meta_title <= 60 characters, meta_description <= 160, 5-10 distinct
keywords, slug [a-z0-9-]+. Each field says where it came from: model, repaired or fallback.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from shared.schemas.generation import Product, SeoMetadataInput
from worker.generation.attempts import (
    AttemptPlan,
    Candidate,
    engine_for,
    generate_until_clean,
    result_metadata,
)
from worker.generation.checks import (
    CheckResult,
    check_boilerplate,
    check_facts,
    check_no_pii,
)
from worker.generation.inputs import parse_redacted, source_text
from worker.generation.prompts import SEO_METADATA, option_phrases, product_facts
from worker.generation.relevance import check_relevance
from worker.models.registry import ModelRegistry
from worker.runner import JobContext, Outcome

TITLE_MAX, DESCRIPTION_MAX, ALT_MAX, SLUG_MAX = 60, 160, 125, 80
KEYWORDS_MIN, KEYWORDS_MAX = 5, 10
LINE = re.compile(r"^\s*(?:\*\*)?(title|meta title|description|meta description|keywords|alt|"
                  r"alt text|image alt)(?:\*\*)?\s*:\s*(.*)$", re.I)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return slug or "product"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, without dangling punctuation."""
    text = re.sub(r"\s+", " ", text).strip().strip('"')
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[: limit + 1] else text[:limit]
    return cut[:limit].rstrip(" ,;:-|")


def parse_lines(raw: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in raw.splitlines():
        match = LINE.match(line)
        if match:
            key = match.group(1).lower().split()[-1]  # "meta title" -> "title"
            key = {"text": "alt"}.get(key, key)
            fields.setdefault(key, match.group(2).strip())
    return fields


STOPWORDS = frozenset("a an and the of for with in on by to from plus pack set per x".split())


def fallback_keywords(product: Product, requested: list[str]) -> list[str]:
    """Search phrases built from the product data itself, most specific first."""
    head = re.split(r"[,(]", product.title)[0]
    content = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9'&-]*", head)
               if w.lower() not in STOPWORDS and len(w) > 1]
    if product.brand:
        content = [w for w in content if w.lower() != product.brand.lower()] or content
    phrases = [*requested]
    if 2 <= len(content) <= 5:
        phrases.append(" ".join(content))
    phrases += [f"{a} {b}" for a, b in zip(content, content[1:], strict=False)][-3:]
    if product.brand and content:
        phrases.append(f"{product.brand} {content[-1]}")
        phrases.append(product.brand)
    if product.category:
        phrases += [part.strip() for part in re.split(r"[,>/|]", product.category)][::-1]
    phrases += [str(v) for v in product.attributes.values() if isinstance(v, str)]
    # Shopping phrases around the product's name guarantee enough distinct keywords even for
    # a one-word title with no brand or category.
    core = " ".join(content[-2:]) or product.title
    phrases += [f"buy {core}", f"{core} online", f"best {core}", f"{core} price",
                f"{core} deals"]
    return phrases


def normalize_keywords(candidates: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for phrase in candidates:
        phrase = re.sub(r"\s+", " ", phrase.strip().strip(".\"'#").lower())
        if 2 <= len(phrase) <= 60 and phrase not in seen:
            seen[phrase] = None
    return list(seen)[:KEYWORDS_MAX]


def _fallback_description(product: Product) -> str:
    parts = [product.title + (f" by {product.brand}" if product.brand else "") + "."]
    parts += [f"{feature.rstrip('.')}." for feature in product.features[:2]]
    if product.category:
        parts.append(f"Shop {product.category.split(',')[-1].strip().lower()}.")
    return clip(" ".join(parts), DESCRIPTION_MAX)


def assemble(raw: str, request: SeoMetadataInput, source: str, block_facts: bool,
             on_topic: Callable[[str], CheckResult] | None = None,
             ) -> tuple[dict[str, Any], list[CheckResult]]:
    """Parsed, repaired or fallback fields that always meet the limits, and their checks.

    `on_topic` (the embedding relevance check) rejects a model-written title or description
    that is not about the product; the field then falls back to one built from the product.
    """
    product = request.product
    parsed = parse_lines(raw)
    sources: dict[str, str] = {}
    checks: list[CheckResult] = []

    def usable(name: str, value: str | None) -> bool:
        if not value:
            return False
        candidates = [check_boilerplate(value), check_no_pii(value)]
        if on_topic is not None and name in {"meta_title", "meta_description"}:
            candidates.append(on_topic(value))
        problems = [c for c in candidates if not c.passed]
        checks.extend(CheckResult(f"{name}.{c.name}", False, c.detail, False) for c in problems)
        return not problems

    def take(name: str, value: str | None, limit: int, fallback: str) -> str:
        if usable(name, value):
            clipped = clip(value, limit)
            sources[name] = "model" if clipped == value.strip() else "repaired"
            return clipped
        sources[name] = "fallback"
        return clip(fallback, limit)

    brand_suffix = f" | {product.brand}" if product.brand else ""
    fields: dict[str, Any] = {
        "meta_title": take("meta_title", parsed.get("title"), TITLE_MAX,
                           clip(product.title, TITLE_MAX - len(brand_suffix)) + brand_suffix),
        "meta_description": take("meta_description", parsed.get("description"),
                                 DESCRIPTION_MAX, _fallback_description(product)),
        "image_alt": take("image_alt", parsed.get("alt"), ALT_MAX,
                          product.title + (f" from {product.brand}" if product.brand else "")),
    }
    model_keywords = normalize_keywords((parsed.get("keywords") or "").split(",")) if usable(
        "keywords", parsed.get("keywords")) else []
    keywords = normalize_keywords([*request.options.keywords, *model_keywords])
    if len(keywords) >= KEYWORDS_MIN:
        sources["keywords"] = "model"
    else:
        keywords = normalize_keywords(
            [*keywords, *fallback_keywords(product, request.options.keywords)])
        sources["keywords"] = "repaired" if model_keywords else "fallback"
    fields["keywords"] = keywords
    brand_in_title = product.brand and product.brand.lower() in product.title.lower()
    fields["slug"] = slugify(product.title if brand_in_title or not product.brand
                             else f"{product.brand} {product.title}")
    sources["slug"] = "fallback"  # always derived from the product: stable URLs
    fields["source"] = "fallback" if all(
        sources[k] == "fallback" for k in ("meta_title", "meta_description")) else "model"
    fields["sources"] = sources

    written = f"{fields['meta_title']} {fields['meta_description']}"
    checks.append(check_facts(written, source, product.brand, block_facts))
    checks.append(check_no_pii(" ".join([written, fields["image_alt"], *keywords])))
    checks.append(_limits(fields))
    return fields, checks


def _limits(fields: dict[str, Any]) -> CheckResult:
    problems = []
    if len(fields["meta_title"]) > TITLE_MAX or not fields["meta_title"]:
        problems.append("meta_title length")
    if len(fields["meta_description"]) > DESCRIPTION_MAX or not fields["meta_description"]:
        problems.append("meta_description length")
    if not KEYWORDS_MIN <= len(set(fields["keywords"])) <= KEYWORDS_MAX:
        problems.append(f"{len(fields['keywords'])} keywords")
    if not re.fullmatch(r"[a-z0-9-]+", fields["slug"]):
        problems.append("slug")
    return CheckResult("schema_limits", not problems, ", ".join(problems) or "all hold", True)


def write_seo_metadata(
    job_input: dict[str, Any], models: ModelRegistry, context: JobContext
) -> Outcome:
    settings = context.settings
    request, redactions = parse_redacted(SeoMetadataInput, job_input)
    source = source_text(request)

    embedder = models.require_embedder()
    facts = product_facts(request.product)

    def build(raw: str) -> Candidate:
        fields, checks = assemble(raw, request, source, settings.block_unsupported_facts,
                                  on_topic=lambda text: check_relevance(embedder, text, facts))
        return Candidate(fields, checks)

    plan = AttemptPlan(SEO_METADATA, {**option_phrases(request.options),
                                                     "facts": facts},
                       90, request.options.temperature, request.options.seed)
    candidate, decoding = generate_until_clean(engine_for(models, settings), plan, context,
                                               settings, build)
    source_model = models.require_generator().source
    return Outcome(result={**candidate.fields,
                           **result_metadata(plan, decoding, candidate, redactions)},
                   model_name=source_model.name, model_revision=source_model.revision)
