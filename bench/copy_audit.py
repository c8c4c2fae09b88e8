"""An independent reader of generated copy: regexes and a small lexicon, written apart from
the gate in worker/generation/ (it imports none of it), so that the benchmark does not
grade the gate with the gate's own rules.

It answers, per text: which numbers, materials and capitalised names it contains that the
input does not; whether it has meta text (assistant talk, prompt echoes, placeholders); and,
for SEO fields, the defects a shop manager would see.
"""

from __future__ import annotations

import re

# Deliberately a different, shorter list than the gate's lexicon.
MATERIALS = ("steel", "stainless", "aluminum", "aluminium", "copper", "brass", "bronze",
             "iron", "titanium", "plastic", "acrylic", "vinyl", "nylon", "polyester", "cotton",
             "leather", "wood", "wooden", "bamboo", "glass", "ceramic", "rubber", "silicone",
             "silver", "gold", "metal", "foam", "paper", "cardboard", "cork", "oil")
META = re.compile(
    r"(as an ai|language model|here is|here are|here's|let me|i'm|i am|i have|i've|\bmy\b|"
    r"feel free|happy to help|hope this|any (other|further) questions|sure!|certainly|"
    r"product information|product description|this description|your customers|"
    r"your (store|shop|business|listing)|rewrite|rewritten|\[|\]|\{|\}|as requested|note:|"
    r"the answers?\b|paragraphs?|word count|in conclusion)", re.I)
FILLER = re.compile(r"\b(buy|best|deals?|cheap|cheapest|online|price|prices|sale|discount|"
                    r"coupon|free shipping)\b", re.I)
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _numbers(text: str) -> set[str]:
    found = set()
    for number in re.findall(r"\d+(?:[.,]\d+)?", text):
        number = number.replace(",", "")
        found.add(number.rstrip("0").rstrip(".") if "." in number else number)
    return found


def unsupported(text: str, source: str) -> dict[str, list[str]]:
    """Numbers, materials and mid-sentence capitalised words in `text` absent from
    `source` (case-insensitive)."""
    low_source = source.lower()
    numbers = sorted(_numbers(text) - _numbers(source))
    materials = [m for m in MATERIALS if re.search(rf"\b{m}\b", text, re.I)
                 and not re.search(rf"\b{m}\b", low_source)]
    names = []
    for sentence in SENTENCE.split(text):
        for word in re.findall(r"(?<=\s)([A-Z][A-Za-z0-9'&-]+)", " " + sentence.strip())[1:]:
            stem = re.sub(r"'s$", "", word).lower()
            if stem and stem not in low_source:
                names.append(word)
    return {"numbers": numbers, "materials": materials, "names": sorted(set(names))}


def meta_hits(text: str) -> list[str]:
    return sorted({m.group(0).lower() for m in META.finditer(text)})


def seo_defects(fields: dict, title: str, brand: str | None) -> list[str]:
    """What a shop manager would flag in SEO fields."""
    defects = []
    meta_title, description = fields["meta_title"], fields["meta_description"]
    if len(meta_title) > 60 or len(description) > 160:
        defects.append("over length")
    if description.endswith(("...", "…")) or not re.search(r"[.!?]$", description.strip()):
        defects.append("cut sentence")
    # The product noun: the last word of the title's first part, before "for"/"with".
    first_part = re.split(r"\s+(?:for|with)\s+", re.sub(r"\([^)]*\)?", "", title.split(",")[0]),
                          maxsplit=1)[0].split()
    noun = first_part[-1].lower().rstrip("s") if first_part else ""
    if noun and noun[:5] not in meta_title.lower():
        defects.append("lost product noun")
    if brand and meta_title.lower().count(brand.lower()) > 1:
        defects.append("repeated brand")
    first = " ".join(meta_title.lower().split()[:4])
    if first and description.lower().startswith(first):
        defects.append("description repeats title")
    if any(FILLER.search(k) for k in fields["keywords"]):
        defects.append("filler keyword")
    return defects
