"""Checks a generated text must pass before its job may succeed.

Each check returns passed + detail; `blocking` decides whether a failure makes the attempt
unusable. Unsupported facts block only when the operator's setting says so.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from worker.generation.pii import find_pii
from worker.generation.text import ends_sentence, words

BOILERPLATE = re.compile(
    r"(\bas an ai\b|\blanguage model\b|\bi can(?:'|’)?t\b|\bi cannot\b|\bi(?:'|’)m unable\b|"
    r"\bi am unable\b|\bi(?:'|’)m sorry\b|\bi am sorry\b|\bi apologi[sz]e\b|"
    r"^\s*(?:sure|certainly|of course|absolutely)\b[,!.]?|\bhere(?:'|’)?s (?:a|an|the|your)\b|"
    r"\bhere is (?:a|an|the|your)\b|"
    # The prompt's own instructions echoed back instead of followed.
    r"\bproduct facts?\b|\bwithout any (?:special )?formatting\b|\bword (?:count|limit)\b|"
    r"\bat most \d+ words\b|\brequested text\b)",
    re.IGNORECASE,
)
URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
LONG_WORD = 25
MAX_CAPS_SHARE = 0.3
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
MATERIALS = (
    "stainless steel", "steel", "aluminum", "aluminium", "plastic", "leather", "cotton", "wood",
    "wooden", "bamboo", "glass", "ceramic", "silicone", "rubber", "nylon", "polyester", "wool",
    "silk", "gold", "silver", "copper", "brass", "titanium", "carbon fiber", "vinyl", "oak",
    "walnut", "marble", "linen", "velvet", "denim", "metal", "porcelain", "acrylic", "cashmere",
)
SIZES = re.compile(r"\b(?:XXS|XS|XL|XXL|XXXL|\d+XL)\b")


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str
    blocking: bool

    def as_dict(self) -> dict:
        return {"passed": self.passed, "detail": self.detail, "blocking": self.blocking}


def check_not_empty(text: str) -> CheckResult:
    count = len(words(text))
    return CheckResult("not_empty", count > 0, f"{count} words", True)


def check_boilerplate(text: str) -> CheckResult:
    match = BOILERPLATE.search(text)
    detail = f"found {match.group(0).strip()!r}" if match else "none found"
    return CheckResult("no_refusal_or_boilerplate", match is None, detail, True)


def check_complete(text: str) -> CheckResult:
    complete = ends_sentence(text)
    return CheckResult("complete_sentences", complete,
                       "ends a sentence" if complete else "ends mid-sentence", True)


def check_repetition(text: str, max_share: float = 0.15) -> CheckResult:
    """Degenerate loops: a share of repeated word trigrams, or one word 4 times in a row."""
    tokens = [w.lower() for w in words(text)]
    trigrams = list(zip(tokens, tokens[1:], tokens[2:], strict=False))
    counts = Counter(trigrams)
    repeated = sum(n - 1 for n in counts.values() if n > 1)
    share = repeated / len(trigrams) if trigrams else 0.0
    run = max((len(m.group(0).split()) for m in re.finditer(r"\b(\w+)(?:\W+\1\b){3,}",
                                                            text.lower())), default=0)
    passed = share <= max_share and run == 0
    return CheckResult("no_repetition", passed,
                       f"repeated trigram share {share:.2f}" + (f", a word {run}x in a row"
                                                                 if run else ""), True)


def check_well_formed(text: str, source: str) -> CheckResult:
    """No run-on gibberish tokens, no links the client did not give, not mostly shouting."""
    source_lower = source.lower()
    problems = []
    long_words = [w for w in re.findall(r"\S+", text)
                  if len(w.strip(".,;:!?\"'()")) > LONG_WORD and w.lower() not in source_lower
                  and not URL.match(w)]
    if long_words:
        problems.append(f"gibberish token {long_words[0][:30]!r}")
    links = [u for u in URL.findall(text) if u.lower().rstrip(".,)") not in source_lower]
    if links:
        problems.append(f"link not in the input {links[0][:40]!r}")
    lettered = [w for w in words(text) if sum(c.isalpha() for c in w) >= 3]
    shouted = [w for w in lettered if w.isupper() and w.lower() not in source_lower]
    if lettered and len(shouted) / len(lettered) > MAX_CAPS_SHARE:
        problems.append(f"{len(shouted)} of {len(lettered)} words in capitals")
    return CheckResult("well_formed", not problems, "; ".join(problems) or "ok", True)


def check_length(text: str, min_words: int, max_words: int) -> CheckResult:
    count = len(words(text))
    passed = min_words <= count <= max_words
    return CheckResult("length", passed, f"{count} words, asked {min_words}-{max_words}", True)


def check_no_pii(text: str) -> CheckResult:
    found = find_pii(text)
    detail = ", ".join(f"{kind} x{n}" for kind, n in found.items()) or "none found"
    return CheckResult("no_personal_data", not found, detail, True)


def unsupported_facts(text: str, source: str) -> list[str]:
    """Numbers, sizes and materials in `text` that `source` (the input) does not contain."""
    source_lower = source.lower()
    source_numbers = {n.replace(",", ".") for n in NUMBER.findall(source)}
    claims = []
    for number in NUMBER.findall(text):
        normalized = number.replace(",", ".")
        if normalized not in source_numbers and normalized.rstrip("0").rstrip(".") not in {
            n.rstrip("0").rstrip(".") for n in source_numbers
        }:
            claims.append(number)
    claims += [s for s in SIZES.findall(text) if s.lower() not in source_lower]
    remaining = text.lower()
    for material in sorted(MATERIALS, key=len, reverse=True):  # "stainless steel" before "steel"
        pattern = rf"\b{re.escape(material)}\b"
        if re.search(pattern, remaining):
            remaining = re.sub(pattern, " ", remaining)
            if material not in source_lower:
                claims.append(material)
    return list(dict.fromkeys(claims))


BRAND_CUE = re.compile(r"\b(?:by|from|with|like|than|vs\.?|versus|unlike)\s+([A-Z][\w&'-]+)")
BRAND_SHAPE = re.compile(r"\b([A-Z][a-z]+[A-Z]\w*|[A-Z]{2,}\w*|[A-Z]\w*\d\w*)\b")


def unknown_brands(text: str, source: str, brand: str | None) -> list[str]:
    """Names that look like brands ("by Bostitch", "HyperX", "XR500") but are not in the input.

    Capitalised words alone would flag every sentence start and title-cased phrase, so a
    name counts only after a cue word or when its shape (CamelCase, capitals, digits) says so.
    """
    source_lower = source.lower()
    names = BRAND_CUE.findall(text) + BRAND_SHAPE.findall(text)
    return [n for n in dict.fromkeys(names)
            if n.lower() not in source_lower and (not brand or n.lower() != brand.lower())]


def check_facts(text: str, source: str, brand: str | None, blocking: bool) -> CheckResult:
    claims = unsupported_facts(text, source) + unknown_brands(text, source, brand)
    detail = f"not in the input: {', '.join(claims)}" if claims else "all supported"
    return CheckResult("facts_in_input", not claims, detail, blocking)


def run_text_checks(text: str, *, source: str, brand: str | None, min_words: int,
                    max_words: int, block_facts: bool) -> list[CheckResult]:
    return [
        check_not_empty(text),
        check_boilerplate(text),
        check_complete(text),
        check_repetition(text),
        check_length(text, min_words, max_words),
        check_well_formed(text, source),
        check_facts(text, source, brand, block_facts),
        check_no_pii(text),
    ]
