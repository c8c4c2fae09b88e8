"""Words a pitch's model sentence may use: the item's own, or plain selling words.

The shared verifier checks numbers, materials and names against the item's facts, and how
close a sentence is to one of them. In a one-line pitch that is not enough: SmolLM2 wrote
"beware of fellowes binding machine!", "prints on ebonite!" and "is on your wall in 72391",
each close enough to a fact to pass. Here every content word of a model sentence must be in
the item's facts (title, brand, category, description) or in a short list of words any shop
uses about any product; anything else leaves the pitch to the template.
"""

from __future__ import annotations

import re

from worker.generation.facts import FactSheet, singular

# Content words a pitch may add to the item's facts: praise, use, the shopper, the shop.
SELLING_WORDS = frozenset("""
    meet hello introducing introduce discover find perfect great ideal quality designed design
    help helps easy easily every everyday work works home office need needs comes come gives
    give offers offer features feature made built just right favorite favourite best high use
    uses using used ready simple smooth stay stays look looks also more what when where which
    while into have will them they their there here these those than then each both only very
    well good enjoy love your yours this that with from make makes keep keeps want like
    fits lets today time space ways organized organised reliable handy durable stylish
    sturdy comfortable practical essential everything anything something getting product
    products item items shop shopper pick picked choice choose perfectly
    """.split())
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")


def ungrounded_words(sentence: str, facts: FactSheet) -> list[str]:
    """The sentence's content words (four letters or more) that neither the item's facts
    nor SELLING_WORDS hold, compared in lower case and singular."""
    known = {singular(w.lower()) for w in WORD.findall(facts.text)}
    return [w for w in WORD.findall(sentence)
            if (s := singular(w.lower().strip("'-"))) not in known and s not in SELLING_WORDS
            and w.lower() not in SELLING_WORDS]
