"""SEO fields built from the fact sheet, and the rules every SEO field must meet.

The rules (each a test with planted defects): a title keeps the product noun and names the
brand once; a meta description is whole sentences (or clauses ended with a full stop), never
cut with "...", and does not open by repeating the title; keywords are noun phrases from
the title and facts, never shopping filler ("buy X", "X deals") and never a category that
shares no word with the title; lengths: title <= 60, description <= 160, alt <= 125.
"""

from __future__ import annotations

import re
import unicodedata

from worker.generation.facts import WORD, FactSheet, singular
from worker.generation.quantities import UNITS
from worker.generation.text import sentences

TITLE_MAX, DESCRIPTION_MAX, ALT_MAX, SLUG_MAX = 60, 160, 125, 80
KEYWORDS_WANTED, KEYWORDS_MAX = 5, 10
FILLER = frozenset("""buy cheap cheapest deal deals discount discounts online price prices sale
sales shop shopping best top review reviews free shipping coupon coupons offer offers near me
order""".split())
STOPWORDS = frozenset("a an and the of for with in on by to from plus per x or".split())
COLOURS = frozenset("""black white grey gray silver gold red blue green yellow orange purple pink
brown beige navy teal clear transparent assorted multicolor multicolour""".split())


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return slug or "product"


def _brand_in(text: str, brand: str | None) -> bool:
    return bool(brand) and re.search(rf"\b{re.escape(brand)}\b", text, re.I) is not None


def _has_noun(text: str, facts: FactSheet) -> bool:
    """Whether `text` keeps the product noun (when the product's name has one to keep)."""
    if not facts.product_type or not _mentions_noun(facts.name, facts.product_type):
        return True
    return _mentions_noun(text, facts.product_type)


def _mentions_noun(text: str, noun: str) -> bool:
    lowered = " ".join(singular(w) for w in WORD.findall(text.lower()))
    return re.search(rf"\b{re.escape(noun)}\b", lowered) is not None


def title_problems(title: str, facts: FactSheet) -> list[str]:
    problems = []
    if not title or len(title) > TITLE_MAX:
        problems.append(f"length {len(title)} (1-{TITLE_MAX})")
    if not _has_noun(title, facts):
        problems.append(f"lost the product noun {facts.product_type!r}")
    if facts.brand and len(re.findall(rf"\b{re.escape(facts.brand)}\b", title, re.I)) > 1:
        problems.append("repeats the brand")
    if title.rstrip().endswith(("|", "-", ",", ":", "...", "…")):
        problems.append("ends on a separator")
    return problems


def _shorten(name: str, limit: int, keep: str | None) -> str:
    """Drop words from the middle of `name` (never the first or the product noun) until it
    fits; a name cut at the end would lose its noun ("... e3000 Power | Philips")."""
    tokens = name.split()
    protected = {0, len(tokens) - 1}
    if keep:
        protected |= {i for i, t in enumerate(tokens) if singular(t.lower().strip(",")) == keep}
    while len(" ".join(tokens)) > limit:
        removable = [i for i in range(len(tokens)) if i not in protected]
        if not removable:
            return " ".join(tokens)[:limit].rsplit(" ", 1)[0]
        drop = removable[-1] if keep is None else min(
            removable, key=lambda i: (not bool(re.search(r"\d", tokens[i])), -i))
        tokens.pop(drop)
        protected = {p - (p > drop) for p in protected if p != drop}
        # A separator left between two dropped words ("24\" x 14\"" -> "x") goes too.
        tokens = [t for i, t in enumerate(tokens) if not (t.lower() in {"x", "&", "-", "/"}
                  and (i == 0 or i == len(tokens) - 1 or re.search(r"\d", tokens[i - 1])
                       is None and re.search(r"\d", tokens[i + 1]) is None
                       and t.lower() == "x"))]
    return " ".join(tokens)


def template_title(facts: FactSheet) -> str:
    """`Name | Brand` (the brand once), shortened in the middle, never cut at the end."""
    name = facts.name
    if len(name) > TITLE_MAX:  # "... Mouse Pad for desktops and laptops": what it is first
        head = re.split(r"\s+(?:for|with|compatible with|fits)\s+", name, maxsplit=1,
                        flags=re.I)[0]
        name = head if len(head.split()) >= 2 else name
    if len(name) > TITLE_MAX:  # sizes belong in the description: "24" x 14"" goes first
        name = re.sub(r"\s*\d+(?:\.\d+)?\s*(?:\"|in|inch(?:es)?|cm|mm)?\s*x\s*\d+(?:\.\d+)?"
                      r"\s*(?:\"|in\b|inch(?:es)?|cm|mm)?", "", name, flags=re.I).strip()
    if facts.brand and len(re.findall(rf"\b{re.escape(facts.brand)}\b", name, re.I)) > 1:
        # "HP 940XL Ink for HP Officejet": what it fits is not what it is.
        head = re.split(r"\s+(?:for|compatible with|fits)\s+", name, maxsplit=1, flags=re.I)[0]
        name = head if len(head.split()) >= 2 else name
        first = re.search(rf"\b{re.escape(facts.brand)}\b", name, re.I)
        if first:  # "Arrow Fastener Arrow PT50": the brand once is enough
            rest = re.sub(rf"\s*\b{re.escape(facts.brand)}\b", "", name[first.end():],
                          flags=re.I)
            name = (name[: first.end()] + rest).strip()
    suffix = f" | {facts.brand}" if facts.brand and not _brand_in(name, facts.brand) else ""
    if len(name) + len(suffix) <= TITLE_MAX:
        return name + suffix
    if len(name) <= TITLE_MAX and len(name) + len(suffix) > TITLE_MAX:
        shortened = _shorten(name, TITLE_MAX - len(suffix), facts.product_type)
        return shortened + suffix if len(shortened.split()) >= 2 else name
    return _shorten(name, TITLE_MAX, facts.product_type)


def repeats_title(text: str, title: str, facts: FactSheet) -> bool:
    """Whether `text` opens with the first words (up to four, at least two) of the title,
    the product's name or its full title."""
    opening = [w.lower() for w in WORD.findall(text)]
    for source in (title, facts.name, facts.title):
        head = [w.lower() for w in WORD.findall(source)[:4]]
        if len(head) >= 2 and opening[: len(head)] == head:
            return True
    return False


def description_problems(text: str, title: str, facts: FactSheet) -> list[str]:
    problems = []
    if not text or len(text) > DESCRIPTION_MAX:
        problems.append(f"length {len(text)} (1-{DESCRIPTION_MAX})")
    if text.endswith(("...", "…")) or not re.search(r"[.!?]$", text):
        problems.append("does not end a sentence")
    if repeats_title(text, title, facts):
        problems.append("opens by repeating the title")
    if len(WORD.findall(text)) < 5:
        problems.append("not a sentence")
    return problems


def _clause_cut(sentence: str, limit: int) -> str | None:
    """The longest run of whole clauses (ended at , ; or a dash) within `limit`, closed
    with a full stop; None when even the first clause is too long."""
    clauses = re.split(r"(?<=[,;])\s+|\s+[-–—]\s+", sentence.rstrip(".!? "))
    kept = ""
    for clause in clauses:
        candidate = f"{kept} {clause}".strip() if kept else clause
        if len(candidate.rstrip(",;")) + 1 > limit:
            break
        kept = candidate
    if not kept or len(WORD.findall(kept)) < 6:
        return None
    return kept.rstrip(",; ") + "."


def template_description(facts: FactSheet, title: str) -> str:
    """The first description sentences that fit, else a clause-bounded cut of the first,
    else the name with its features; always whole sentences."""
    candidates = [f.text for f in facts.facts if f.origin in {"description", "feature"}]
    statements = [s.strip() for c in candidates for s in sentences(c)
                  if re.search(r"[.!?]$", s.strip()) and len(WORD.findall(s)) >= 5]
    usable = [s for s in statements if not repeats_title(s, title, facts)]
    text = ""
    for sentence in usable:
        joined = f"{text} {sentence}".strip()
        if len(joined) <= DESCRIPTION_MAX:
            text = joined
        elif text:
            break
    if text:
        return text
    for sentence in usable:
        cut = _clause_cut(sentence, DESCRIPTION_MAX)
        if cut:
            return cut
    return _features_sentence(facts)


def _features_sentence(facts: FactSheet) -> str:
    kind = (facts.product_type or "product")
    lead = f"A {kind} from {facts.brand}" if facts.brand else f"The {facts.name}"
    if facts.brand and not _brand_in(facts.name, facts.brand):
        lead = f"The {facts.name} from {facts.brand}"
    elif facts.brand:
        lead = f"The {facts.name}"
    items = [f.text.rstrip(".") for f in facts.facts if f.origin in {"feature", "attribute"}
             or (f.origin == "description" and len(WORD.findall(f.text)) < 12)]
    text = f"{lead}."
    for count in range(len(items), 0, -1):
        joined = ", ".join(_lower_first(i) for i in items[:count])
        candidate = f"{lead}: {joined}."
        if len(candidate) <= DESCRIPTION_MAX:
            text = candidate
            break
    if len(text) > DESCRIPTION_MAX:
        text = _shorten(text.rstrip("."), DESCRIPTION_MAX - 1, facts.product_type) + "."
    return text


def _lower_first(text: str) -> str:
    first = WORD.findall(text)[:1]
    if first and first[0][1:].islower():
        return text[0].lower() + text[1:]
    return text


def keyword_problems(keyword: str, facts: FactSheet) -> list[str]:
    problems = []
    tokens = WORD.findall(keyword.lower())
    if not 2 <= len(keyword) <= 60 or not tokens:
        problems.append("length")
    filler = [t for t in tokens if t in FILLER]
    if filler:
        problems.append(f"filler {filler[0]!r}")
    unsupported = [t for t in tokens if t not in STOPWORDS and not facts.mentions(t)]
    if unsupported:
        problems.append(f"not in the facts: {', '.join(unsupported)}")
    if tokens and all(t in COLOURS or t in STOPWORDS or singular(t) in UNITS
                      or re.fullmatch(r"[\d.]+", t) for t in tokens):
        problems.append("no noun")
    return problems


def _consistent(category: str, facts: FactSheet) -> bool:
    """A category phrase shares a word with the title (else it may contradict it)."""
    title_words = {singular(w) for w in WORD.findall(facts.title.lower()) if len(w) > 2}
    words = {singular(w) for w in WORD.findall(category.lower()) if len(w) > 2}
    return bool(title_words & words)


def template_keywords(facts: FactSheet, requested: list[str]) -> list[str]:
    """Noun phrases from the title and facts, most specific first."""
    name_words = [w for w in WORD.findall(facts.name) if w.lower() not in STOPWORDS]
    kind = facts.product_type
    phrases = [*requested]
    if 2 <= len(name_words) <= 6:
        phrases.append(re.sub(r"[^\w&'’ -]", "", facts.name))
    if facts.brand and kind:
        phrases.append(f"{facts.brand} {kind}")
    for segment in facts.title.split(",")[1:]:
        segment = re.sub(r"\([^)]*\)", "", segment).strip()
        if segment and len(WORD.findall(segment)) >= 2:
            phrases.append(segment)
    lowered = [w.lower() for w in name_words]
    if kind and kind in [singular(w) for w in lowered]:
        index = [singular(w) for w in lowered].index(kind)
        if index >= 1:
            phrases.append(f"{lowered[index - 1]} {lowered[index]}")
        if index >= 2:
            phrases.append(" ".join(lowered[index - 2: index + 1]))
    colours = [c for c in COLOURS if facts.mentions(c, identity_only=True)]
    if kind and colours:
        phrases.append(f"{colours[0]} {kind}")
    if kind:
        phrases.append(kind)
    if facts.category_leaf and _consistent(facts.category_leaf, facts):
        phrases.append(facts.category_leaf)
    if facts.brand:
        phrases.append(facts.brand)
    return normalise_keywords([p for p in phrases if not keyword_problems(p, facts)
                               or p in requested])


def normalise_keywords(candidates: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for phrase in candidates:
        phrase = re.sub(r"\s+", " ", phrase.strip().strip(".\"'#").lower())
        if 2 <= len(phrase) <= 60 and phrase not in seen:
            seen[phrase] = None
    return list(seen)[:KEYWORDS_MAX]


def template_alt(facts: FactSheet) -> str:
    colours = [c for c in sorted(COLOURS) if facts.mentions(c, identity_only=True)
               and not re.search(rf"\b{c}\b", facts.name, re.I)]
    alt = facts.name + (f" in {colours[0]}" if colours else "")
    if facts.brand and not _brand_in(alt, facts.brand):
        alt += f" from {facts.brand}"
    return alt if len(alt) <= ALT_MAX else _shorten(alt, ALT_MAX, facts.product_type)
