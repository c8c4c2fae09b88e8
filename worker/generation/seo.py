"""`seo_metadata`: the model's lines where they pass every rule, the facts' own otherwise.

Each field is taken from the first candidate whose value passes the SEO rules (see
`seo_fields`) and the sentence verifier; else it is built from the fact sheet. `sources`
says which, per field; `raw` keeps what the model wrote.
"""

from __future__ import annotations

import re
from typing import Any

from shared.schemas.generation import SeoMetadataInput
from worker.contract import JobContext, Outcome, QualityCheckFailed
from worker.generation import candidates
from worker.generation.candidates import Generation, PromptSpec
from worker.generation.checks import CheckResult, check_no_pii
from worker.generation.facts import FactSheet
from worker.generation.inputs import parse_redacted
from worker.generation.meta import meta_problems
from worker.generation.models import GenerationModels
from worker.generation.prompts import SEO_METADATA
from worker.generation.seo_fields import (
    ALT_MAX,
    DESCRIPTION_MAX,
    KEYWORDS_MAX,
    KEYWORDS_WANTED,
    TITLE_MAX,
    description_problems,
    keyword_problems,
    normalise_keywords,
    slugify,
    template_alt,
    template_description,
    template_keywords,
    template_title,
    title_problems,
)
from worker.generation.verify import fact_problems
from worker.generation.writing import Writer

LINE = re.compile(r"^\s*(?:\*\*)?(title|meta title|description|meta description|keywords)"
                  r"(?:\*\*)?\s*:\s*(.*)$", re.I)


def parse_lines(raw: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in raw.splitlines():
        match = LINE.match(line)
        if match:
            fields.setdefault(match.group(1).lower().split()[-1], match.group(2).strip())
    return fields


def _prompt_facts(facts: FactSheet) -> str:
    lines = [f"- Name: {facts.title}"] + ([f"- Brand: {facts.brand}"] if facts.brand else [])
    lines += [f"- {f.text}" for f in facts.facts if f.origin in {"description", "feature",
                                                                 "attribute"}][:4]
    return "\n".join(lines)


class SeoChooser:
    """Validates the model's fields; remembers why each was refused (for the audit)."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.facts = writer.facts
        self.refused: list[dict[str, Any]] = []

    def _refuse(self, field: str, value: str, problems: list[str]) -> None:
        self.refused.append({"field": field, "value": value, "problems": problems})

    def title(self, value: str) -> bool:
        problems = title_problems(value, self.facts) + fact_problems(value, self.facts)
        problems += meta_problems(value, self.facts)
        if problems:
            self._refuse("meta_title", value, problems)
        return not problems

    def description(self, value: str, title: str) -> bool:
        problems = description_problems(value, title, self.facts)
        if not problems:
            problems = self.writer.verifier.check([value],
                                                  language=self.writer.options.language)[0].problems
        if problems:
            self._refuse("meta_description", value, problems)
        return not problems

    def keywords(self, value: str) -> list[str]:
        kept = []
        for keyword in value.split(","):
            keyword = keyword.strip().strip(".\"'#")
            if not keyword:  # no KEYWORDS line, or an empty slot: nothing written to refuse
                continue
            problems = keyword_problems(keyword, self.facts)
            if problems:
                self._refuse("keywords", keyword, problems)
            else:
                kept.append(keyword)
        return kept


def choose_fields(generations: list[Generation], chooser: SeoChooser,
                  requested: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    facts = chooser.facts
    parsed = [parse_lines(g.text) for g in generations]
    sources: dict[str, str] = {}
    title = next((p["title"] for p in parsed if p.get("title") and chooser.title(p["title"])),
                 None)
    sources["meta_title"] = "model" if title else "template"
    title = title or template_title(facts)
    description = next((p["description"] for p in parsed if p.get("description")
                        and chooser.description(p["description"], title)), None)
    sources["meta_description"] = "model" if description else "template"
    description = description or template_description(facts, title)
    model_keywords = [k for p in parsed for k in chooser.keywords(p.get("keywords", ""))]
    keywords = normalise_keywords([*requested, *model_keywords])
    sources["keywords"] = "model" if len(keywords) >= KEYWORDS_WANTED else "template"
    if len(keywords) < KEYWORDS_WANTED:
        keywords = normalise_keywords([*keywords, *template_keywords(facts, requested)])
    brand_in_title = facts.brand and facts.brand.lower() in facts.title.lower()
    fields = {
        "meta_title": title, "meta_description": description, "keywords": keywords,
        "image_alt": template_alt(facts),
        "slug": slugify(facts.title if brand_in_title or not facts.brand
                        else f"{facts.brand} {facts.title}"),
    }
    sources |= {"image_alt": "template", "slug": "template"}
    return fields, sources


def seo_checks(fields: dict[str, Any], facts: FactSheet) -> list[CheckResult]:
    problems = [f"meta_title: {p}" for p in title_problems(fields["meta_title"], facts)]
    problems += [f"meta_description: {p}" for p in description_problems(
        fields["meta_description"], fields["meta_title"], facts)]
    problems += [f"keyword {k!r}: {p}" for k in fields["keywords"]
                 for p in keyword_problems(k, facts) if p.startswith(("filler", "no noun"))]
    limits = []
    if len(fields["image_alt"]) > ALT_MAX:
        limits.append("image_alt length")
    if not 1 <= len(set(fields["keywords"])) == len(fields["keywords"]) <= KEYWORDS_MAX:
        limits.append(f"{len(fields['keywords'])} keywords")
    if not re.fullmatch(r"[a-z0-9-]+", fields["slug"]):
        limits.append("slug")
    enough = len(fields["keywords"]) >= KEYWORDS_WANTED
    return [
        CheckResult("seo_rules", not problems, "; ".join(problems) or "all hold", True),
        CheckResult("schema_limits", not limits, ", ".join(limits) or
                    f"title <= {TITLE_MAX}, description <= {DESCRIPTION_MAX}, alt <= {ALT_MAX}",
                    True),
        CheckResult("keyword_count", enough,
                    f"{len(fields['keywords'])} keywords" + ("" if enough else
                                                             " (all the facts support)"), False),
        check_no_pii(" ".join([fields["meta_title"], fields["meta_description"],
                               fields["image_alt"], *fields["keywords"]])),
    ]


def write_seo_metadata(job_input: dict[str, Any], models: GenerationModels,
                       context: JobContext) -> Outcome:
    request, redactions = parse_redacted(SeoMetadataInput, job_input)
    facts = FactSheet.from_product(request.product)
    writer = Writer(models, context, request.options, facts)
    spec = PromptSpec("seo", SEO_METADATA, {"facts": _prompt_facts(facts)}, max_words=60,
                      one_sentence=False)
    generations = writer.generate([spec])
    chooser = SeoChooser(writer)
    fields, sources = choose_fields(generations, chooser, request.options.keywords)
    checks = seo_checks(fields, facts)
    failed = [c for c in checks if c.blocking and not c.passed]
    if failed:
        raise QualityCheckFailed("the SEO fields failed " + "; ".join(c.detail for c in failed),
                                 {"facts": facts.as_dict(), "generations": writer.audit()})
    model_fields = sum(sources[k] == "model" for k in ("meta_title", "meta_description",
                                                       "keywords"))
    metadata = {
        "sources": sources, "source": "model" if model_fields else "template",
        "model_share": round(model_fields / 3, 3),
        "raw": [g.text for g in generations], "refused": chooser.refused,
        "checks": {c.name: c.as_dict() for c in checks}, "facts": facts.as_dict(),
        "prompt": {"template_ids": [SEO_METADATA.id], "template_variant": writer.variant},
        "decoding": candidates.decoding(writer.candidates, request.options.temperature,
                                        writer.seed),
        "generations": writer.audit(), "timings": candidates.timings(writer.generations),
        "redactions": redactions,
    }
    source = models.require_generation().source
    return Outcome(result={**fields, **metadata}, model_name=source.name,
                   model_revision=source.revision)
