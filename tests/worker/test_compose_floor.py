"""Composition: verified model sentences where they pass, the facts themselves elsewhere, and
never below the template floor (title + brand + the first facts)."""

from __future__ import annotations

import pytest

from shared.schemas.generation import GenerationOptions, Product
from tests.support.events import office_products_with_descriptions
from worker.generation.candidates import Generation
from worker.generation.compose import compose, fill, verify_generations, word_count
from worker.generation.copywriting import product_units
from worker.generation.facts import FactSheet
from worker.generation.text import words
from worker.generation.verify import Verifier

GARBAGE = ["I'm glad you're happy with the product description!",
           "Here is a rewritten version: Product: [Name].",
           "The Best Choice for Business Professionals is made by Fermtech in Denver.", ""]


def _generations(units, texts: list[str]) -> list[Generation]:
    return [Generation(unit.key, n, n, 0.0, "test", text, 10, "stop", 1)
            for unit in units for n, text in enumerate(texts)]


def _plan(product: dict, max_words: int):
    facts = FactSheet.from_product(Product(**product))
    units, specs = product_units(facts, GenerationOptions(max_words=max_words), 0, max_words)
    return facts, units, {s.key: s.source for s in specs}


@pytest.mark.parametrize("max_words", [40, 120])
def test_garbage_from_the_model_gives_exactly_the_template(embedder, max_words):
    for product in office_products_with_descriptions()[:20]:
        facts, units, sources = _plan(product, max_words)
        generations = _generations(units, GARBAGE)
        verify_generations(generations, Verifier(facts, embedder), sources)
        pieces = compose(units, generations, max_words)
        assert all(p.source == "template" for p in pieces)
        assert pieces == fill(units, [], max_words, use_model=False)
        assert word_count(pieces) <= max_words
        assert all(g.used == [] for g in generations)


def test_the_result_is_never_shorter_than_the_floor(embedder):
    """Whatever the model writes (short, vague rewrites included), the composed text has at
    least as many words as title + brand + the first two facts within the budget."""
    for product in office_products_with_descriptions()[:20]:
        facts, units, sources = _plan(product, 80)
        planted = [unit.template.split(",")[0].rstrip(".") + "." for unit in units
                   if unit.template]
        generations = _generations(units, planted)
        verify_generations(generations, Verifier(facts, embedder), sources)
        pieces = compose(units, generations, 80)
        floor = fill(units[:3], [], 80, use_model=False)
        assert word_count(pieces) >= word_count(floor), product["title"]
        assert pieces[0].unit == "opening"
        names = [n.lower() for n in (facts.brand, facts.product_type, facts.name.split()[0]) if n]
        assert any(n in pieces[0].text.lower() for n in names), pieces[0].text


def test_verified_model_sentences_are_used_and_say_so(embedder):
    product = {"title": "Swingline Stapler, Commercial Desk Stapler, 20 Sheet Capacity, Black",
               "brand": "Swingline",
               "description": "This desk stapler staples up to 20 sheets at once. Its "
                              "jam-free design keeps the office moving."}
    facts, units, sources = _plan(product, 60)
    rewrite = "With this desk stapler you can staple up to 20 sheets at once."
    generations = [Generation("fact:0", 0, 1, 0.0, "test", rewrite, 12, "stop", 2),
                   Generation("fact:0", 1, 2, 0.7, "test", "It holds 500 sheets!", 6, "stop", 2)]
    verify_generations(generations, Verifier(facts, embedder), sources)
    pieces = compose(units, generations, 60)
    assert [p.source for p in pieces].count("model") == 1
    [model_piece] = [p for p in pieces if p.source == "model"]
    assert model_piece.text == rewrite and model_piece.unit == "fact:0"
    assert generations[0].used == [rewrite] and generations[1].used == []
    assert "500" not in " ".join(p.text for p in pieces)


def test_units_that_do_not_fit_are_skipped_whole():
    product = {"title": "Quartet Cork Bulletin Board, 11 x 17 Inches, Black Frame",
               "brand": "Quartet",
               "description": "A bulletin board is great for display purposes, allowing you "
                              "to show off family photos and keep treasured memories in easy "
                              "view. Fully tackable. The durable cork surface is neutral in "
                              "color."}
    facts, units, _ = _plan(product, 20)
    pieces = fill(units, [], 20, use_model=False)
    assert word_count(pieces) <= 20
    assert all(p.text.endswith((".", "!", "?")) for p in pieces)
    assert len(words(" ".join(p.text for p in pieces))) == word_count(pieces)
