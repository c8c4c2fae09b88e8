"""How a pitch shortens names and which second sentence it may add (no model needed).

The names are real Office titles whose cut forms read wrong in an earlier run ("meet the
Wilson Jones Heavy Duty Round.", "... 4530B008 C.").
"""

import pytest

from shared.schemas.generation import Product
from worker.generation.facts import FactSheet, short_name
from worker.personalised.grounding import ungrounded_words
from worker.personalised.phrases import name_variants
from worker.personalised.pitches import ItemPlan, _reads_alone
from worker.personalised.ranking import _same_name


@pytest.mark.parametrize(("name", "brand", "expected"), [
    ("Wilson Jones Heavy Duty Round Ring View Binder with Extra Durable Hinge", "Wilson Jones",
     ["Wilson Jones Heavy Duty Round Ring View Binder", "Wilson Jones binder"]),
    ("Canon SELPHY CP900 White Wireless Color Photo Printer", "Canon",
     ["Canon SELPHY CP900", "Canon printer"]),
    ("Post-it Pop-up Note and Flag Dispenser for 3 x 3-Inch Notes", "Post-It",
     ["Post-it Pop-up Note and Flag Dispenser", "Post-It dispenser"]),
    ("Board Dudes 11\" x 14\" Metalix Magnetic Dry Erase Board", "The Board Dudes", []),
    ("Brother Desktop Office Labeler with AC Adapter", "Brother", []),
    ("Quartet 4-Count Broad Dry-Erase Marker Kit", "Quartet", []),
    ("Canon Ink 4530B008 C Twin", None, ["Canon Ink 4530B008"]),
])
def test_short_names_end_on_a_model_number_or_the_products_noun(name, brand, expected):
    variants = name_variants(name, brand)
    assert variants[0] == name
    assert variants[1:] == expected
    assert [len(v) for v in variants] == sorted((len(v) for v in variants), reverse=True)


def _plan(title: str, description: str, brand: str) -> ItemPlan:
    facts = FactSheet.from_product(Product(title=title, description=description, brand=brand))
    return ItemPlan(item={}, facts=facts, verifier=None, key="0:opening")


def test_a_second_sentence_must_be_about_the_item():
    plan = _plan("Mead Organizher Write-On Planner", "Being a Mom is a full-time job. "
                 "The planner has a pocket for every family member. Tired of lost notes?",
                 "Mead")
    assert not _reads_alone("Being a Mom is a full-time job.", plan)
    assert not _reads_alone("Tired of lost notes?", plan)
    assert _reads_alone("The planner has a pocket for every family member.", plan)
    assert _reads_alone("It folds flat for travel.", plan)


def test_a_quoted_word_inside_a_name_does_not_end_it():
    assert short_name("Mead Organizher Write 'N Wipe Monthly Undated Dry-Erase Calendar, "
                      "8.5 x 11 Inches", "Mead") == \
        "Mead Organizher Write 'N Wipe Monthly Undated Dry-Erase Calendar"


def test_a_variant_of_the_same_listing_is_not_a_link():
    assert _same_name("AT&T 210 Corded Phone", "AT&T 210 Corded Phone, White, 1 Handset")
    assert _same_name("BIC Round Stic Ball Pen, Blue", "BIC Round Stic Ball Pen, Black, 12")
    assert not _same_name("Swingline Heavy Duty Staple Remover",
                          "Swingline Customizable Fashion Stapler, 20 Sheets")


def test_a_model_sentence_may_use_only_the_items_words_and_plain_selling_words():
    facts = FactSheet.from_product(Product(
        title="Fellowes Binding Machine, Comb, Star+", brand="Fellowes",
        description="Binds up to 150 sheets. Punches 12 sheets at once."))
    assert ungrounded_words("Beware of the Fellowes binding machine!", facts) == ["Beware"]
    assert ungrounded_words("It prints on ebonite.", facts) == ["prints", "ebonite"]
    assert ungrounded_words("Meet the Fellowes Binding Machine: it binds up to 150 sheets "
                            "for your home office.", facts) == []
