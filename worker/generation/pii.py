"""Personal data: emails, phone numbers and card numbers, found and redacted."""

from __future__ import annotations

import re
from collections import Counter

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Card numbers: 13-19 digits, optionally grouped by spaces or dashes; confirmed by Luhn.
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
# Phone numbers: an optional +, then 9-15 digits with the usual separators. Nine digits is the
# shortest national number with an area code; shorter runs are model numbers and sizes.
PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{7,20}\d(?![\w])")


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


def _is_phone(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    return 9 <= len(digits) <= 15 and (match.startswith("+") or re.search(r"[\s().-]", match)
                                      is not None or len(digits) >= 10)


def find_pii(text: str) -> Counter:
    """Kinds of personal data in `text` and how often each occurs."""
    found: Counter = Counter()
    found["email"] += len(EMAIL.findall(text))
    without_emails = EMAIL.sub(" ", text)
    cards = [m for m in CARD.findall(without_emails) if _is_card(m)]
    found["card"] += len(cards)
    for card in cards:
        without_emails = without_emails.replace(card, " ")
    found["phone"] += sum(_is_phone(m) for m in PHONE.findall(without_emails))
    return +found


def redact(text: str, counts: Counter | None = None) -> str:
    """`text` with emails, card numbers and phone numbers replaced by [email] etc."""
    counts = counts if counts is not None else Counter()

    def _sub(kind: str, pattern: re.Pattern, keep=lambda m: True):
        nonlocal text

        def replace(match: re.Match) -> str:
            if not keep(match.group(0)):
                return match.group(0)
            counts[kind] += 1
            return f"[{kind}]"

        text = pattern.sub(replace, text)

    _sub("email", EMAIL)
    _sub("card", CARD, _is_card)
    _sub("phone", PHONE, _is_phone)
    return text


def redact_tree(value, counts: Counter):
    """Redact every string inside a JSON-like value."""
    if isinstance(value, str):
        return redact(value, counts)
    if isinstance(value, list):
        return [redact_tree(item, counts) for item in value]
    if isinstance(value, dict):
        return {key: redact_tree(item, counts) for key, item in value.items()}
    return value
