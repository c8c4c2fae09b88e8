"""The output checks and repairs on planted texts: each must catch what it is for."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from shared.schemas.generation import SeoMetadataInput
from tests.support.events import office_products
from worker.generation.checks import (
    check_boilerplate,
    check_complete,
    check_facts,
    check_length,
    check_no_pii,
    check_repetition,
    check_well_formed,
)
from worker.generation.pii import find_pii, redact
from worker.generation.seo import assemble
from worker.generation.text import fit_sentences, tidy

SOURCE = '{"title": "Swingline Stapler, 20 Sheet Capacity", "brand": "Swingline"}'


@pytest.mark.parametrize("text", [
    "I'm sorry, but I can't help with that request.",
    "As an AI language model, I do not have opinions about staplers.",
    "Sure! Here is a product description: a great stapler.",
    "Here's a description for your stapler. It staples.",
    "Certainly! This stapler is great.",
])
def test_refusals_and_boilerplate_are_caught(text):
    assert not check_boilerplate(text).passed


@pytest.mark.parametrize("text", [
    "This stapler handles your daily paperwork with ease.",
    "You can't go wrong with a stapler that never jams.",
])
def test_ordinary_copy_is_not_boilerplate(text):
    assert check_boilerplate(text).passed


def test_invented_numbers_materials_and_brands_are_flagged():
    planted = "This Swingline stapler holds 500 sheets and is made of stainless steel by Bostitch."
    result = check_facts(planted, SOURCE, "Swingline", blocking=True)
    assert not result.passed and result.blocking
    for claim in ("500", "stainless steel", "Bostitch"):
        assert claim in result.detail
    supported = check_facts("Staples up to 20 sheets.", SOURCE, "Swingline", blocking=False)
    assert supported.passed
    flagged_only = check_facts(planted, SOURCE, "Swingline", blocking=False)
    assert not flagged_only.passed and not flagged_only.blocking


def test_personal_data_is_found_redacted_and_blocked():
    text = ("Mail jo.smith@example.co.uk or call +44 20 7946 0958; card 4111 1111 1111 1111. "
            "Model CS6114 holds 20 sheets, SKU 20200-1.")
    assert find_pii(text) == {"email": 1, "phone": 1, "card": 1}
    counts = Counter()
    clean = redact(text, counts)
    assert "[email]" in clean and "[phone]" in clean and "[card]" in clean
    assert "CS6114" in clean and "20200-1" in clean and "20 sheets" in clean
    assert counts == {"email": 1, "phone": 1, "card": 1}
    assert not check_no_pii(text).passed and check_no_pii(clean).passed
    assert not find_pii("Order 4111 1111 1111 1112 is not a valid card number (Luhn).")


def test_truncation_repetition_and_length():
    assert not check_complete("This stapler is great for the").passed
    assert check_complete('It is "great."').passed
    assert not check_repetition("double-sided " * 12).passed
    assert not check_repetition("a great stapler, a great stapler, a great stapler, "
                                "a great stapler for you").passed
    assert check_repetition("A sturdy stapler for busy offices. It never jams.").passed
    assert not check_length("Too short.", 5, 40).passed
    assert check_length("one two three four five six", 5, 40).passed


def test_fit_sentences_drops_the_cut_off_tail_and_keeps_within_budget():
    raw = "First sentence here. Second one is fine! Third is cut off because the mod"
    assert fit_sentences(raw, 100) == "First sentence here. Second one is fine!"
    assert fit_sentences(raw, 4) == "First sentence here."
    assert tidy('"**Bold** claim."') == "Bold claim."


@pytest.mark.parametrize("raw", [
    "",
    "I'm sorry, I can't do that.",
    "TITLE: " + "Very long title " * 20 + "\nDESCRIPTION: " + "word " * 100 + "\nKEYWORDS: a",
    "TITLE: Great Stapler\nDESCRIPTION: Call 415-555-0134 now\nKEYWORDS: x, x, x\nALT: pic",
])
def test_seo_fields_always_meet_the_limits(raw):
    for product in office_products()[:25]:
        request = SeoMetadataInput.model_validate({"product": product})
        fields, checks = assemble(raw, request, request.model_dump_json(), block_facts=False)
        assert 0 < len(fields["meta_title"]) <= 60
        assert 0 < len(fields["meta_description"]) <= 160
        assert 5 <= len(set(fields["keywords"])) == len(fields["keywords"]) <= 10
        assert re.fullmatch(r"[a-z0-9-]+", fields["slug"])
        assert "555" not in fields["meta_description"]
        limits = [c for c in checks if c.name == "schema_limits"][0]
        assert limits.passed


def test_seo_uses_a_good_model_answer_and_says_so():
    request = SeoMetadataInput.model_validate({"product": office_products()[0]})
    raw = ("TITLE: VTech Cordless Phone CS6114\nDESCRIPTION: A DECT 6.0 cordless phone in "
           "white and grey with one handset.\nKEYWORDS: cordless phone, vtech phone, dect 6.0 "
           "phone, home phone, white phone, handset\nALT: VTech cordless phone in white")
    fields, _ = assemble(raw, request, request.model_dump_json(), block_facts=False)
    assert fields["meta_title"] == "VTech Cordless Phone CS6114"
    assert fields["sources"]["meta_title"] == "model" and fields["source"] == "model"
    assert fields["keywords"][:2] == ["cordless phone", "vtech phone"]


@pytest.mark.parametrize("text", [
    "At your earliest discretion, please provide a product fact without any special formatting.",
    "Here is the requested text within the word limit.",
])
def test_echoed_instructions_are_caught(text):
    assert not check_boilerplate(text).passed


@pytest.mark.parametrize("text", [
    "Great pen. #HololenshotrKdXVNwYzMgvFyEaWxkfCBAuOQAiAMZLnBmSlbGVtRj",
    "75% OFF NOW! Visit http://www.example-deals.com/product_info.html today.",
    "DOCUMENTED ON AVERAGE STORIES OF EXCLUSIVE OUR WORK BY THEM combined with you.",
])
def test_gibberish_links_and_shouting_are_caught(text):
    assert not check_well_formed(text, SOURCE).passed


def test_well_formed_copy_passes_even_with_input_acronyms():
    source = '{"title": "VTECH CS6114 DECT 6.0 Cordless Phone"}'
    assert check_well_formed("The VTECH CS6114 is a DECT cordless phone for busy homes.",
                             source).passed


def test_slug_does_not_repeat_a_brand_already_in_the_title():
    product = {"title": "BIC Round Stic Ball Pen, Fine Point", "brand": "BIC"}
    request = SeoMetadataInput.model_validate({"product": product})
    fields, _ = assemble("", request, request.model_dump_json(), block_facts=False)
    assert fields["slug"] == "bic-round-stic-ball-pen-fine-point"


def test_off_topic_model_fields_fall_back():
    request = SeoMetadataInput.model_validate({"product": office_products()[0]})
    raw = "TITLE: Outdoor furniture for summer\nDESCRIPTION: Garden chairs in teak."

    def off_topic(text):
        from worker.generation.checks import CheckResult
        return CheckResult("on_topic", False, "similarity 0.05", True)

    fields, _ = assemble(raw, request, request.model_dump_json(), block_facts=False,
                         on_topic=off_topic)
    assert fields["sources"]["meta_title"] == "fallback"
    assert "furniture" not in fields["meta_title"].lower()
