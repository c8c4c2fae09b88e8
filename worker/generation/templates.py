"""Sentences written from the fact sheet alone: the floor under every generated text.

Each is true by construction (it restates a fact) and grammatical; there are a few
variants per tone and language so that a catalog does not read like one sentence repeated.
The variant is picked by the job's seed, so the same input and seed give the same text.
"""

from __future__ import annotations

import re

from worker.generation.facts import WORD, FactSheet, publishable

OPENINGS: dict[str, dict[str, list[str]]] = {
    "en": {
        "friendly": ["Meet the {name}{from_brand}.", "Say hello to the {name}{from_brand}."],
        "professional": ["Introducing the {name}{from_brand}.",
                         "This is the {name}{from_brand}."],
        "luxury": ["Discover the {name}{from_brand}.", "Presenting the {name}{from_brand}."],
        "playful": ["Say hello to the {name}{from_brand}.",
                    "Here comes the {name}{from_brand}."],
    },
    "de": {"default": ["Entdecken Sie {name}{from_brand}."]},
    "fr": {"default": ["Découvrez {name}{from_brand}."]},
    "es": {"default": ["Descubra {name}{from_brand}."]},
    "it": {"default": ["Scopri {name}{from_brand}."]},
    "nl": {"default": ["Maak kennis met {name}{from_brand}."]},
    "pt": {"default": ["Conheça {name}{from_brand}."]},
    "zh": {"default": ["{brand_prefix}{name}。"]},
}
FROM_BRAND = {"en": " from {brand}", "de": " von {brand}", "fr": " de {brand}",
              "es": " de {brand}", "it": " di {brand}", "nl": " van {brand}",
              "pt": " da {brand}", "zh": ""}
ATTRIBUTE_SENTENCES = {
    "color": "It comes in {value}.", "colour": "It comes in {value}.",
    "material": "It is made of {value}.", "size": "It measures {value}.",
    "dimensions": "It measures {value}.", "weight": "It weighs {value}.",
    "capacity": "It holds {value}.", "compatibility": "It is compatible with {value}.",
    "compatible with": "It is compatible with {value}.",
}
FRAGMENT_LEADS = ["Key features: {items}.", "Highlights: {items}.", "What you get: {items}."]


def language_of(code: str) -> str:
    return code.split("-")[0].lower()


def opening(facts: FactSheet, tone: str, language: str, variant: int) -> str | None:
    """A first sentence naming the product and its brand, or None for unknown languages."""
    lang = language_of(language)
    table = OPENINGS.get(lang)
    if table is None:
        return None
    choices = table.get(tone.lower()) or table.get("friendly") or table["default"]
    brand = facts.brand
    has_brand = brand and brand.lower() in facts.name.lower()
    from_brand = FROM_BRAND[lang].format(brand=brand) if brand and not has_brand else ""
    brand_prefix = f"{brand} " if brand and not has_brand else ""
    sentence = choices[variant % len(choices)].format(name=facts.name, from_brand=from_brand,
                                                      brand_prefix=brand_prefix)
    return sentence


def _as_item(fragment: str, facts: FactSheet) -> str:
    """A feature fragment as a list item: lower-case start unless it is a name or acronym."""
    fragment = fragment.strip().rstrip(".;:")
    first = WORD.findall(fragment)[:1]
    if first and first[0][1:].islower() and first[0].lower() not in facts.name.lower():
        fragment = fragment[0].lower() + fragment[1:]
    return fragment


def is_sentence(text: str) -> bool:
    """A fact that already reads as a sentence: ends in punctuation, has five or more words."""
    return bool(re.search(r"[.!?]$", text.strip())) and len(WORD.findall(text)) >= 5


def fact_sentences(facts: FactSheet, variant: int) -> list[tuple[str, str]]:
    """(sentence, the fact it restates) for every usable fact, in the client's order:
    description sentences, then features (full sentences as they are, fragments as one
    list sentence), then attributes."""
    out: list[tuple[str, str]] = []
    fragments: list[str] = []
    for fact in facts.facts:
        if fact.origin in {"description", "feature"}:
            if not publishable(fact.text, facts.title):
                continue
            if is_sentence(fact.text):
                out.append((_capitalised(fact.text), fact.text))
            else:
                fragments.append(fact.text)
        elif fact.origin == "attribute":
            name, _, value = fact.text.partition(": ")
            template = ATTRIBUTE_SENTENCES.get(name.strip().lower())
            if template:
                out.append((template.format(value=value.strip()), fact.text))
            else:
                out.append((f"{name.strip().capitalize()}: {value.strip()}.", fact.text))
    if len(fragments) == 1:  # one item is a sentence of its own, not a list
        text = fragments[0].rstrip(".;: ")
        out.insert(_after_description(facts, out), (_capitalised(text) + ".", fragments[0]))
    elif fragments:
        items = _join([_as_item(f, facts) for f in fragments[:6]])
        lead = FRAGMENT_LEADS[variant % len(FRAGMENT_LEADS)]
        out.insert(_after_description(facts, out), (lead.format(items=items),
                                                     "; ".join(fragments[:6])))
    return out


def _after_description(facts: FactSheet, out: list[tuple[str, str]]) -> int:
    descriptions = {f.text for f in facts.facts if f.origin == "description"}
    return sum(1 for _, source in out if source in descriptions)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _capitalised(text: str) -> str:
    """First letter in capitals, unless the first word is cased on purpose ("iPoint")."""
    text = text.strip()
    first = text.split(" ", 1)[0]
    if any(c.isupper() for c in first[1:]):
        return text
    return text[:1].upper() + text[1:]
