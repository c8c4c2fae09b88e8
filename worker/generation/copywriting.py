"""`product_description`: an opening and the product's facts, each sentence verified.

The model is asked to introduce the product and to rewrite each fact in the job's tone;
each sentence it writes is kept only if the facts support it, and each slot it could not
fill is written by the fact itself (see `compose`).
"""

from __future__ import annotations

from typing import Any

from shared.schemas.generation import GenerationOptions, ProductDescriptionInput
from worker.contract import JobContext, Outcome
from worker.generation.candidates import PromptSpec
from worker.generation.compose import Unit
from worker.generation.facts import FactSheet
from worker.generation.inputs import parse_redacted
from worker.generation.models import GenerationModels
from worker.generation.prompts import INTRODUCE_PRODUCT, REWRITE_FACT, option_values
from worker.generation.templates import fact_sentences, opening
from worker.generation.text import words
from worker.generation.writing import Writer, min_words_for, text_fields

# Prompts beyond what the text can hold are wasted model time: plan for 1.2x the budget,
# and let the model try the opening and the first facts only (the floor's own units).
PLAN_SLACK = 1.2
MAX_FACT_PROMPTS = 3


def product_units(facts: FactSheet, options: GenerationOptions, variant: int, max_words: int,
                  prefix: str = "") -> tuple[list[Unit], list[PromptSpec]]:
    """The opening and fact units of one product, and the prompts that may write them."""
    units: list[Unit] = []
    specs: list[PromptSpec] = []
    restated = fact_sentences(facts, variant)
    first_fact = restated[0][1] if restated else facts.title
    intro = opening(facts, options.tone, options.language, variant)
    names = tuple(n for n in (facts.brand, facts.product_type, facts.name.split()[0]) if n)
    units.append(Unit(f"{prefix}opening", intro, must_name=names))
    values = option_values(options.tone, options.audience, options.language)
    specs.append(PromptSpec(f"{prefix}opening", INTRODUCE_PRODUCT,
                            {**values, "name": facts.name, "fact": first_fact},
                            max_words=30, source=first_fact))
    planned = len(words(intro or ""))
    for index, (sentence, fact) in enumerate(restated):
        key = f"{prefix}fact:{index}"
        units.append(Unit(key, sentence))
        if planned <= max_words * PLAN_SLACK and len(specs) <= MAX_FACT_PROMPTS:
            specs.append(PromptSpec(key, REWRITE_FACT, {**values, "fact": sentence},
                                    max_words=min(len(words(sentence)) + 10, 45), source=fact))
            planned += len(words(sentence))
    return units, specs


def describe_product(job_input: dict[str, Any], models: GenerationModels,
                     context: JobContext) -> Outcome:
    request, redactions = parse_redacted(ProductDescriptionInput, job_input)
    options = request.options
    facts = FactSheet.from_product(request.product)
    writer = Writer(models, context, options, facts)
    units, specs = product_units(facts, options, writer.variant, options.max_words)
    writer.generate(specs)
    pieces = writer.compose(units, options.max_words)
    min_words = min_words_for(options.max_words)
    writer.require_enough(pieces, min_words, "a description")
    return writer.outcome(text_fields(pieces), pieces, min_words, options.max_words,
                          redactions)
