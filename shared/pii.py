"""Personal data: e-mail addresses, phone numbers and card numbers, found and redacted.

Redaction protects people, not products: a phone number must be one that libphonenumber
accepts as valid for a region (or in international + form), so a model number, a size list
("1 2 5 15 30 60 Minutes") or a part number is never mistaken for one.
"""

from __future__ import annotations

import re
from collections import Counter

import phonenumbers

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Card numbers: 13-19 digits, optionally grouped by spaces or dashes; confirmed by Luhn.
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
# Numbers without a + are read as national numbers of these regions (North America, the
# UK, China, Germany, France, India): where most shoppers in our data write from.
PHONE_REGIONS = ("US", "GB", "CN", "DE", "FR", "IN")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _is_card(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    return 13 <= len(digits) <= 19 and _luhn_ok(digits)


def _phone_spans(text: str) -> list[tuple[int, int]]:
    if not re.search(r"\d{3}", re.sub(r"[\s().-]", "", text)):
        return []
    spans: set[tuple[int, int]] = set()
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region,
                                                     leniency=phonenumbers.Leniency.VALID):
            spans.add((match.start, match.end))
    # Overlapping finds from two regions are one number: keep the widest.
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


def _replace_spans(text: str, spans: list[tuple[int, int]], token: str) -> str:
    for start, end in reversed(spans):
        text = text[:start] + token + text[end:]
    return text


def _card_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in CARD.finditer(text) if _is_card(m.group(0))]


def find_pii(text: str) -> Counter:
    """Kinds of personal data in `text` and how often each occurs."""
    counts: Counter = Counter()
    redact(text, counts)
    return +counts


def redact(text: str, counts: Counter | None = None) -> str:
    """`text` with e-mails, card numbers and phone numbers replaced by [email] etc."""
    counts = counts if counts is not None else Counter()
    emails = [m.span() for m in EMAIL.finditer(text)]
    counts["email"] += len(emails)
    text = _replace_spans(text, emails, "[email]")
    cards = _card_spans(text)
    counts["card"] += len(cards)
    text = _replace_spans(text, cards, "[card]")
    phones = _phone_spans(text)
    counts["phone"] += len(phones)
    return _replace_spans(text, phones, "[phone]")


def redact_tree(value, counts: Counter):
    """Redact every string inside a JSON-like value."""
    if isinstance(value, str):
        return redact(value, counts)
    if isinstance(value, list):
        return [redact_tree(item, counts) for item in value]
    if isinstance(value, dict):
        return {key: redact_tree(item, counts) for key, item in value.items()}
    return value
