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

from worker.generation.facts import WORD, FactSheet, publishable, singular
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


def _ending_at_noun(name: str, limit: int, noun: str | None) -> str | None:
    """The longest start of `name` that ends with the product noun and fits `limit`."""
    if not noun:
        return None
    tokens = name.split()
    best = None
    for end in range(1, len(tokens) + 1):
        candidate = " ".join(tokens[:end])
        if len(candidate) > limit:
            break
        if singular(tokens[end - 1].lower().strip(",")) == noun.split()[-1]:
            best = candidate
    return best if best and len(best.split()) >= 2 else None


def _without_sizes(name: str) -> str:
    return re.sub(r"\s*\d+(?:\.\d+)?\s*(?:\"|in|inch(?:es)?|cm|mm)?\s*x\s*\d+(?:\.\d+)?"
                  r"\s*(?:\"|in\b|inch(?:es)?|cm|mm)?", "", name, flags=re.I).strip()


def template_title(facts: FactSheet) -> str:
    """`Name | Brand` (the brand once). A name too long is never cut inside: first what it
    is for ("... for desktops") and sizes go, then it ends at its product noun, else it is
    the brand and the product noun."""
    name = facts.name
    suffix = f" | {facts.brand}" if facts.brand and not _brand_in(name, facts.brand) else ""
    head = re.split(r"\s+(?:for|with|compatible with|fits)\s+", name, maxsplit=1,
                    flags=re.I)[0]
    options = [name + suffix, name, head + suffix, head, _without_sizes(head) + suffix,
               _without_sizes(head)]
    for option in options:
        if len(option) <= TITLE_MAX and len(option.split()) >= 2 and not title_problems(
                option, facts):
            return option
    noun_end = _ending_at_noun(_without_sizes(head), TITLE_MAX, facts.product_type)
    if noun_end:
        return noun_end
    kind = (facts.product_type or "").title()
    return f"{facts.brand} {kind}".strip() if facts.brand else name[:TITLE_MAX].rsplit(" ", 1)[0]


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
    kept = re.sub(r"(?:,|;)?\s+(?:and|or|but|also|with|as well as|plus)\W*$", "",
                  kept.rstrip(",; "), flags=re.I)
    if not kept or len(WORD.findall(kept)) < 6:
        return None
    return kept.rstrip(",; ") + "."


def template_description(facts: FactSheet, title: str) -> str:
    """The first description sentences that fit, else a clause-bounded cut of the first,
    else the name with its features; always whole sentences."""
    candidates = [f.text for f in facts.facts if f.origin in {"description", "feature"}
                  and publishable(f.text, facts.title)]
    statements = [s.strip() for c in candidates for s in sentences(c)
                  if re.search(r"[.!]$", s.strip())
                  and len(re.findall(r"[A-Za-z]{2,}", s)) >= 5]
    usable = [s for s in statements if not repeats_title(s, title, facts)]
    # A statement that can stand alone first: long enough to say something (60+ characters).
    usable = [s for s in usable if len(s) >= 60] + [s for s in usable if len(s) < 60]
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
             or (f.origin == "description" and len(WORD.findall(f.text)) < 12
                 and publishable(f.text, facts.title))]
    if not items:  # the title's other parts say what it is: "..., 20 Sheet Capacity, Black"
        items = [re.sub(r"\([^)]*\)", "", s).strip() for s in facts.title.split(",")[1:]]
        items = [i for i in items if i]
    if not items and facts.category_leaf:
        items = [facts.category_leaf]
    text = f"{lead}."
    for count in range(len(items), 0, -1):
        joined = ", ".join(_lower_first(i) for i in items[:count])
        candidate = f"{lead}: {joined}."
        if len(candidate) <= DESCRIPTION_MAX:
            text = candidate
            break
    if len(text) > DESCRIPTION_MAX:  # a name too long to lead a sentence: name the kind
        text = f"A {kind} from {facts.brand}." if facts.brand else f"A {kind} for every day."
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
    # "shipping" is filler in "free shipping", not in "postal shipping scale" (its title).
    filler = [t for t in tokens if t in FILLER
              and not re.search(rf"\b{re.escape(t)}\b", facts.title, re.I)]
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
    """Search phrases a shopper types: the product's name, brand + kind, the title's
    descriptive parts that end in the kind, colour + kind; never a lone word other than the
    brand, never a bare size or pack count."""
    kind = facts.product_type
    phrases = [*requested]
    name = re.sub(r"\s+", " ", re.sub(r"[^\w&'’ -]", " ", facts.name)).strip()
    # The brand field may name the maker while the title names the line (Acme United /
    # Westcott): shoppers search what the title says.
    brand = facts.brand if facts.brand and _brand_in(facts.title, facts.brand) else None
    if 2 <= len(name.split()) <= 6:
        phrases.append(name)
    if brand and kind:
        phrases.append(f"{brand} {kind}")
    for segment in facts.title.split(",")[1:]:
        segment = re.sub(r"\([^)]*\)", "", segment).strip()
        if (len(segment.split()) >= 2 and kind and _mentions_noun(segment, kind)
                and not segment[:1].isdigit()):
            phrases.append(segment)
    tokens = name.split()
    if kind:
        ends = [i for i, t in enumerate(tokens) if singular(t.lower()) == kind.split()[-1]]
        for end in ends[-1:]:
            # Only the word before the noun: two before cut compounds ("point permanent").
            for start in (end - 1,):
                window = tokens[start: end + 1] if start >= 0 else []
                if window and not any(re.search(r"\d", t) for t in window):
                    phrases.append(" ".join(window))
    colours = [c for c in sorted(COLOURS) if re.search(rf"\b{c}\b", facts.title, re.I)]
    if kind and colours:
        phrases.append(f"{colours[0]} {kind}")
    if facts.category_leaf and _consistent(facts.category_leaf, facts):
        phrases.append(facts.category_leaf)
    if brand:
        phrases.append(brand)
    return normalise_keywords([p for p in phrases if p in requested or (
        not keyword_problems(p, facts) and (len(p.split()) >= 2 or p == brand))])


def normalise_keywords(candidates: list[str]) -> list[str]:
    """Lower-cased, a word never twice in a row ("smead smead"), distinct, at most ten."""
    seen: dict[str, None] = {}
    for phrase in candidates:
        phrase = re.sub(r"\s+", " ", phrase.strip().strip(".\"'#").lower())
        phrase = re.sub(r"\b(\w+)(?: \1\b)+", r"\1", phrase)
        if 2 <= len(phrase) <= 60 and phrase not in seen:
            seen[phrase] = None
    return list(seen)[:KEYWORDS_MAX]


def template_alt(facts: FactSheet) -> str:
    colours = [c for c in sorted(COLOURS) if re.search(rf"\b{c}\b", facts.title, re.I)
               and not re.search(rf"\b{c}\b", facts.name, re.I)]
    alt = facts.name + (f" in {colours[0]}" if colours else "")
    if facts.brand and not _brand_in(alt, facts.brand):
        alt += f" from {facts.brand}"
    return alt if len(alt) <= ALT_MAX else template_title(facts)
