"""SEO fields from the facts, and the rules that refuse the defects seen in real output."""

from __future__ import annotations

import re

import pytest

from shared.schemas.generation import Product
from tests.support.events import office_products_with_descriptions
from worker.generation.facts import FactSheet
from worker.generation.seo_fields import (
    description_problems,
    keyword_problems,
    template_alt,
    template_description,
    template_keywords,
    template_title,
    title_problems,
)

SONICARE = FactSheet.from_product(Product(
    title="Philips Sonicare Xtreme e3000 Power Toothbrush, HX5610/30", brand="Philips Sonicare",
    description="The Sonicare Xtreme e3000 cleans better than a manual toothbrush. Its "
                "rechargeable battery lasts up to two weeks."))
PASTE = FactSheet.from_product(Product(
    title="Arctic Silver 5 High-Density Polysynthetic Silver Thermal Compound, 3.5 Grams",
    brand="Arctic Silver", category="Home & Kitchen, Thermoses, Boilers",
    description="Thermal paste for CPU coolers with 99.9% pure micronized silver."))


def test_template_fields_have_no_defect_on_real_products():
    for product in office_products_with_descriptions()[:60]:
        facts = FactSheet.from_product(Product(**product))
        title = template_title(facts)
        assert not title_problems(title, facts), (title, product["title"])
        description = template_description(facts, title)
        assert not description_problems(description, title, facts), (description, title)
        keywords = template_keywords(facts, [])
        assert 1 <= len(keywords) <= 10
        for keyword in keywords:
            assert not keyword_problems(keyword, facts), keyword
        assert len(template_alt(facts)) <= 125


def test_titles_keep_the_product_noun_and_name_the_brand_once():
    assert title_problems("Philips Sonicare Xtreme e3000 Power | Philips Sonicare", SONICARE) == [
        "lost the product noun 'toothbrush'", "repeats the brand"]
    title = template_title(SONICARE)
    assert "Toothbrush" in title and title.count("Philips Sonicare") == 1
    long_name = FactSheet.from_product(Product(
        title="Fellowes Powershred 79Ci 100% Jam Proof 16-Sheet Cross-Cut Commercial Grade "
              "Paper Shredder", brand="Fellowes"))
    shortened = template_title(long_name)
    assert len(shortened) <= 60 and shortened.endswith("Shredder"), shortened


@pytest.mark.parametrize(("text", "problem"), [
    ("Philips Sonicare Xtreme e3000 Power Toothbrush cleans better than a manual...",
     "does not end a sentence"),
    ("Philips Sonicare Xtreme e3000 Power Toothbrush with a battery that lasts two weeks.",
     "opens by repeating the title"),
    ("The Sonicare Xtreme e3000 cleans better than a manual toothbrush and its rechargeable "
     "battery lasts up to two weeks between charges so you can take it anywhere you go.",
     "length"),
])
def test_meta_description_defects_are_refused(text, problem):
    title = template_title(SONICARE)
    assert any(problem in p for p in description_problems(text, title, SONICARE))


def test_template_description_is_whole_sentences_not_opening_with_the_title():
    description = template_description(SONICARE, template_title(SONICARE))
    assert description.startswith("The Sonicare Xtreme e3000 cleans")
    assert re.search(r"[.!?]$", description) and len(description) <= 160


@pytest.mark.parametrize(("keyword", "problem"), [
    ("buy spray oz", "filler"), ("thermal paste deals", "filler"),
    ("thermoses", "not in the facts"), ("boilers", "not in the facts"),
    ("3.5 grams", "no noun"),
])
def test_filler_and_contradicting_keywords_are_refused(keyword, problem):
    facts = FactSheet.from_product(Product(title="Arctic Silver 5 Thermal Paste, 3.5 Grams",
                                           brand="Arctic Silver"))
    assert any(problem in p for p in keyword_problems(keyword, facts)), keyword


def test_categories_that_share_no_word_with_the_title_are_not_keywords():
    keywords = template_keywords(PASTE, [])
    assert not any("thermos" in k or "boiler" in k for k in keywords)
    assert "arctic silver compound" in keywords or "thermal compound" in keywords


def test_model_lines_are_used_only_when_they_pass(embedder):
    from types import SimpleNamespace

    from shared.schemas.generation import GenerationOptions
    from worker.generation.candidates import Generation
    from worker.generation.seo import SeoChooser, choose_fields
    from worker.generation.verify import Verifier

    good = ("TITLE: Philips Sonicare Xtreme e3000 Toothbrush\nDESCRIPTION: The Sonicare "
            "Xtreme e3000 cleans better than a manual toothbrush.\nKEYWORDS: sonicare "
            "toothbrush, philips toothbrush, xtreme e3000, power toothbrush, rechargeable "
            "toothbrush")
    bad = ("TITLE: Philips Sonicare Xtreme e3000 Power | Philips Sonicare\nDESCRIPTION: "
           "Here is my SEO description for your product...\nKEYWORDS: buy toothbrush, best "
           "deals, toothbrush online")
    writer = SimpleNamespace(facts=SONICARE, options=GenerationOptions(),
                             verifier=Verifier(SONICARE, embedder))
    generations = [Generation("seo", n, n, 0.0, "t", text, 10, "stop", 1)
                   for n, text in enumerate([bad, good])]
    chooser = SeoChooser(writer)
    fields, sources = choose_fields(generations, chooser, [])
    assert fields["meta_title"] == "Philips Sonicare Xtreme e3000 Toothbrush"
    assert fields["meta_description"].startswith("The Sonicare Xtreme e3000 cleans")
    assert sources["meta_title"] == sources["meta_description"] == sources["keywords"] == \
        "model"
    assert not any("buy" in k or "deals" in k or "online" in k for k in fields["keywords"])
    refused = {(r["field"], r["value"]) for r in chooser.refused}
    assert ("meta_title", "Philips Sonicare Xtreme e3000 Power | Philips Sonicare") in refused
    assert ("keywords", "buy toothbrush") in refused
    only_bad = choose_fields(generations[:1], SeoChooser(writer), [])[1]
    assert only_bad["meta_title"] == only_bad["meta_description"] == "template"
