"""Personal data is found and redacted, product numbers are not; quantities compare by
value and unit."""

from __future__ import annotations

from collections import Counter

import pytest

from shared.pii import find_pii, redact
from shared.tenant_settings import redact_personal
from worker.generation.quantities import codes, find_quantities, unsupported_quantities


def test_personal_data_is_found_and_redacted():
    text = ("Mail jo.smith@example.co.uk or call +44 20 7946 0958; card 4111 1111 1111 1111. "
            "Or ring (415) 555-0134, or 我的电话是13812345678.")
    assert find_pii(text) == {"email": 1, "phone": 3, "card": 1}
    counts = Counter()
    clean = redact(text, counts)
    assert "[email]" in clean and "[phone]" in clean and "[card]" in clean
    assert "7946" not in clean and "555" not in clean and "1381" not in clean
    assert counts == {"email": 1, "phone": 3, "card": 1}
    assert not find_pii("Order 4111 1111 1111 1112 is not a valid card number (Luhn).")


@pytest.mark.parametrize("text", [
    "Enerlites HET06A-White 1-2-5-15-30-60 Minutes In-Wall Countdown Timer",
    "Northwestern Bell Big-Button Corded Phone (20200-1), SKU 5216901",
    "TEKwriterUSA Gel Pen Set, 100-Count (27131-D), tip sizes 0.7mm to 1.0mm",
    "Mead Organizher, 10.25 x 11.5 Inches (64051)",
    "HP 940XL Ink, model C4906AN, fits Officejet Pro 8000 and 8500",
])
def test_model_numbers_and_sizes_are_not_phone_numbers(text):
    assert find_pii(text) == {}
    assert redact(text) == text


def test_product_data_is_never_redacted_people_text_is():
    job_input = {"message": "Call me on +1 415 555 0134",
                 "product": {"title": "Support line +1 415 555 0199 inside the box"},
                 "reply_settings": {"contact": "email help@shop.example"}}
    stored = redact_personal(job_input)
    assert stored["message"] == "Call me on [phone]"
    assert stored["product"] == job_input["product"]
    assert stored["reply_settings"] == job_input["reply_settings"]


@pytest.mark.parametrize(("claim", "facts", "supported"), [
    ('a 0.5 inch valve', '1/2" ball valve', True),
    ('a 1.5" valve', '1/2" ball valve', False),
    ("12.7 mm", '1/2" ball valve', True),
    ("sold in packs of 5", "Pack of 100 gloves", False),
    ("a 100-count box", "Pack of 100 gloves", True),
    ("twelve pens", "BIC Ball Pen, 12 Pens", True),
    ("five pens", "BIC Ball Pen, 12 Pens", False),
    ("0.7mm tip", "0.8mm tip", False),
    ("DECT 6.0", "DECT 6.0 cordless phone", True),
])
def test_quantities_compare_by_value_and_unit(claim, facts, supported):
    assert (unsupported_quantities(find_quantities(claim), find_quantities(facts)) == []) \
        is supported


def test_codes_are_names_not_numbers():
    assert codes("HX5610/30, GSF11-Blk, 27131-D, e3000, 0.8mm, 100-Count, 13-Number") == {
        "hx5610/30", "gsf11-blk", "27131-d", "e3000"}
