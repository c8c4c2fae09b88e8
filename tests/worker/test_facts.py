"""The fact sheet: catalog noise removed, what may be restated told from what may not, the
product's name and kind found."""

from __future__ import annotations

import pytest

from shared.schemas.generation import Product
from worker.generation.facts import FactSheet, description_facts, publishable, short_name
from worker.generation.templates import fact_sentences


def test_glued_headings_and_words_are_split_and_dropped():
    facts = description_facts("Amazon.com Product DescriptionWhat's in the BoxTwo Black Canon "
                              "PG-40 ink tanks. Ideal Use:All home and office needs. Clear "
                              "Adhesive TabsScotch Restickable Tabs stick . LightTouch works "
                              "quietly.",
                              names="Canon PG-40 Ink LightTouch")
    assert facts == ["Two Black Canon PG-40 ink tanks.", "All home and office needs.",
                     "Clear Adhesive Tabs.", "Scotch Restickable Tabs stick.",
                     "LightTouch works quietly."]


@pytest.mark.parametrize(("sentence", "ok"), [
    ("Find us on Youtube to see the stand in action.", False),
    ("Buy 2 Stands for a Horizontal Quad Stand.", False),
    ("Ever thought of buying one of those scanners?", False),
    ("We'll now you can scan them anywhere.", False),
    ("In 1930, 3M engineer Richard Drew invented the first transparent tape.", False),
    ("The EL-334MB has a twin power source.", False),  # another model than the title's
    ("Then the scanner is perfect for you.", False),
    ("The EL-344TB has a twin power source.", True),
    ("Each pad holds 100 sheets of paper.", True),
])
def test_only_statements_about_this_product_may_be_restated(sentence, ok):
    assert publishable(sentence, "Sharp EL-344TB Twin Power Calculator") is ok


def test_seller_talk_never_reaches_the_template_sentences():
    sheet = FactSheet.from_product(Product(
        title="Tyke Supply Dual LCD Monitor Stand", brand="Tyke Supply",
        description="Holds two LCD monitors on one pole. Find us on Youtube. Seach under "
                    "tykesupply. Buy 2 Stands for a Horizontal Quad Stand."))
    restated = " ".join(s for s, _ in fact_sentences(sheet, 0))
    assert "Holds two LCD monitors" in restated
    assert "Youtube" not in restated and "Buy 2" not in restated


@pytest.mark.parametrize(("title", "brand", "name", "kind"), [
    ("Smead, File Folder, Letter Size, 100 per Box", "Smead", "Smead File Folder", "folder"),
    ("Arrow Fastener Arrow PT50 Pneumatic Staple Gun", "Arrow Fastener",
     "Arrow Fastener PT50 Pneumatic Staple Gun", "gun"),
    ('Tyke Supply Dual LCD Monitor Stand desk clamp holds up to 24" lcd monitors',
     "Tyke Supply", "Tyke Supply Dual LCD Monitor Stand", "stand"),
    ("Quartet Cork Bulletin Board, 11 x 17 Inches, Black Frame (79279)", "Quartet",
     "Quartet Cork Bulletin Board", "bulletin board"),
    ("Canon 0615B013 PG-40 Black Twin Pack", "Canon", "Canon 0615B013 PG-40 Black Twin Pack",
     None),
    ("Northwestern Bell Big-Button Corded Phone Plus with 13-Number Memory (20200-1)",
     "Northwestern Bell", "Northwestern Bell Big-Button Corded Phone Plus with 13-Number Memory",
     "phone"),
])
def test_name_and_kind(title, brand, name, kind):
    assert short_name(title, brand) == name
    sheet = FactSheet.from_product(Product(title=title, brand=brand))
    assert sheet.product_type == kind
