"""The fact sheet: everything the client told us about a product, in checkable pieces.

Prompts are built from it, every generated sentence is verified against it, the templates
that complete a text are written from it, and it is stored with the result.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import cached_property

from shared.schemas.generation import Product
from worker.generation.lexicon import entries
from worker.generation.quantities import Quantity, codes, find_quantities
from worker.generation.text import sentences

# Boilerplate that catalog exports glue in front of descriptions.
LEADING_NOISE = re.compile(
    r"^\s*(?:amazon\.com\s+)?(?:product description|from the manufacturer|product features|"
    r"description|features|about this item)\s*[:\-]?\s*", re.I)
GLUED_SENTENCE = re.compile(r"(?<=[a-z0-9)][.!?])(?=[A-Z][a-z])")
# Section headings catalog exports glue to the next sentence ("What's in the BoxTwo ...").
HEADING = re.compile(r"(?:^|(?<=[.!?]\s))(?:what'?s in the box|in the box|ideal use|"
                     r"specifications?|package contents?|includes|features|details|"
                     r"warranty|product features|key features|note|please note)\s*[:.]?\s*"
                     r"(?=[A-Z0-9])", re.I)
GLUED_WORDS = re.compile(r"\b([A-Za-z]*[a-z])([A-Z][a-z]+)\b")
# What a shop should not republish from a catalog description: the seller speaking, links,
# calls to action, questions, another model's number, company history.
SELLER_TALK = re.compile(
    r"\b(?:youtube|facebook|instagram|twitter|tiktok|search (?:under|for)|find us|visit us|"
    r"click|www\.|https?://|call us|contact us|buy \d|order now|add to cart|"
    r"we|we'll|we're|we've|our|us|i|i'm|my)\b", re.I)
LEANS_ON_CONTEXT = re.compile(r"\s*(?:then|so|but|and|also|plus|that's why|this is why|"
                              r"otherwise|however|therefore)\b", re.I)
HISTORY = re.compile(r"\b(?:in|since|founded|invented|established)\b[^.]{0,40}\b(?:1[89]\d\d|"
                     r"20[0-2]\d)\b", re.I)
# Acronyms that are also everyday words, so word frequency cannot tell them apart.
ACRONYMS = frozenset("LED LCD USB AC DC HD PC TV ID UV GPS PIN AM FM CD DVD SD RAM".split())
CAPS_RUN = re.compile(r"^[^a-z]{12,}$")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Fact:
    """One checkable statement and where the client gave it."""

    text: str
    origin: str  # title, description, feature, attribute, price, category, topic


def singular(word: str) -> str:
    word = word.lower()
    for suffix, replacement in (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"),
                                ("sses", "ss"), ("ses", "s"), ("s", "")):
        if (word.endswith(suffix) and len(word) >= len(suffix) + 2
                and not word.endswith(("ss", "us", "is"))):
            return word[: -len(suffix)] + replacement
    return word


def clean(text: str) -> str:
    """Entities decoded, catalog boilerplate removed, glued sentences separated."""
    text = html.unescape(html.unescape(text)).replace("\u00a0", " ")
    text = LEADING_NOISE.sub("", text.strip())
    text = GLUED_SENTENCE.sub(" ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def description_facts(description: str, names: str = "") -> list[str]:
    """Sentences of a description; an all-capitals list becomes sentence-case items.

    Words glued across a missing break ("TabsScotch", "BoxTwo") are split unless `names`
    (the title and brand) spells them that way, and section headings are dropped.
    """
    raw = html.unescape(description).strip()
    if CAPS_RUN.match(raw.replace("\n", " ")):
        items = [i.strip(" .;,-") for i in re.split(r"\s{2,}|\n|;|•", raw) if i.strip(" .;,-")]
        return [_sentence_case(i) for i in items]
    known = {w.lower() for w in re.findall(r"[A-Za-z]+", names)}

    def split_glued(match: re.Match) -> str:
        word = match.group(0)
        return word if word.lower() in known else f"{match.group(1)}. {match.group(2)}"

    text = HEADING.sub("", GLUED_WORDS.sub(split_glued, clean(raw)))
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    parts = []
    for block in re.split(r"\n+|•|\s{3,}", text):
        parts += [s.strip() for s in sentences(block) if len(WORD.findall(s)) >= 3]
    return parts


def publishable(fact: str, title: str) -> bool:
    """Whether a description sentence may be restated in copy: not the seller talking, not a
    link or a call to action, not a question, not another model's number, not history, and
    not a sentence that leans on the one before ("Then ...", "So ...")."""
    if fact.rstrip().endswith("?") or SELLER_TALK.search(fact) or HISTORY.search(fact):
        return False
    if LEANS_ON_CONTEXT.match(fact):
        return False
    return not (codes(fact) - codes(title))


def _sentence_case(text: str) -> str:
    """Sentence case for an all-capitals item, keeping acronyms (LED, HAC) as they are."""
    from wordfreq import zipf_frequency

    def word(match: re.Match) -> str:
        token = match.group(0)
        if token.upper() in ACRONYMS or (len(token) <= 4
                                         and zipf_frequency(token.lower(), "en") < 3.5):
            return token.upper()
        return token.lower()

    lowered = re.sub(r"[A-Za-z]+", word, text)
    return lowered[:1].upper() + lowered[1:]


# Words that may sit inside a product name without ending it ("Desk Mat & Mouse Pad").
NAME_JOINERS = frozenset("& and - / + x of for with in".split())
MAX_NAME_WORDS = 8


def short_name(title: str, brand: str | None = None) -> str:
    """What copy calls the product: the title's first comma segment (two when the first is
    one word, like "Smead"), without notes in brackets, the brand once, and, when longer
    than eight words, only its leading run of capitalised words ("Tyke Supply Dual LCD
    Monitor Stand desk clamp holds ..." -> "Tyke Supply Dual LCD Monitor Stand")."""
    segments = [re.sub(r"\s*[(\[][^)\]]*[)\]]+", "", s).strip(" -/")
                for s in clean(title).split(",")]
    segments = [s for s in segments if s]
    if not segments:
        return clean(title)
    head = segments[0]
    if len(head.split()) == 1 and len(segments) > 1:
        head = f"{head} {segments[1]}"
    head = re.sub(r"\s+", " ", head)
    if brand:
        first = re.search(rf"\b{re.escape(brand)}\b", head, re.I)
        if first:  # "Arrow Fastener Arrow PT50": the brand once is enough
            rest = re.sub(rf"\s*\b{re.escape(brand.split()[0])}\b", "", head[first.end():],
                          flags=re.I)
            head = f"{head[: first.end()]}{rest}".strip()
    words = head.split()
    if len(words) > MAX_NAME_WORDS:
        run = []
        for word in words:
            first = word.lstrip("'\"‘’“”")[:1]  # "Write 'N Wipe": 'N is part of the name
            if first.isupper() or first.isdigit() or word.lower() in NAME_JOINERS:
                run.append(word)
            else:
                break
        while run and run[-1].lower() in NAME_JOINERS:
            run.pop()
        if len(run) >= 2:
            head = " ".join(run)
    return head


def find_product_type(name: str, *texts: str) -> str | None:
    """The kind of product: the head (last word) of the name before any "for ..." or
    "with ..." ("Ball Pen" -> "pen", "Cork Bulletin Board" -> "board"), unless that word
    is a colour, size or edition; then the last product noun in it or in the other texts
    (title, category)."""
    core = re.split(r"\s+(?:for|with|compatible with|fits)\s+", name, maxsplit=1,
                    flags=re.I)[0]
    head = [w for w in WORD.findall(core) if w.isalpha() and len(w) > 2]
    while head and head[-1].lower() in NOT_HEADS:
        head.pop()
    if len(head) <= 1:  # only the brand is left ("Canon ... Black Twin Pack"): no head
        head = []
    noun = last_product_noun(core)
    if head:
        last = singular(head[-1])
        # Prefer the lexicon's multi-word form when it ends with this word ("bulletin board").
        return noun if noun and noun.split()[-1] == last else last
    for text in (core, *texts):
        found = last_product_noun(text)
        if found:
            return found
    return None


# Last words of a name that are not what the product is ("... Pen, Black", "... Set, Large").
NOT_HEADS = frozenset("""black white grey gray silver gold red blue green yellow orange purple
pink brown clear assorted small medium large extra pack count edition plus pro max mini new
version series model style kit set cream ivory navy beige tan inch inches twin value bundle
refill refills""".split())


def last_product_noun(text: str) -> str | None:
    """The product noun that ends latest in `text` (longest on ties: "vacuum cleaner")."""
    lowered = " " + " ".join(singular(w) for w in WORD.findall(text.lower())) + " "
    best: tuple[int, str] | None = None
    for noun in entries("product_nouns"):  # longest first
        position = lowered.rfind(f" {noun} ")
        if position >= 0:
            end = position + len(noun)
            if best is None or end > best[0]:
                best = (end, noun)
    return best[1] if best else None


@dataclass
class FactSheet:
    """A product's facts: the sentences, and what a claim may name."""

    name: str
    title: str
    brand: str | None
    product_type: str | None
    category_leaf: str | None
    facts: list[Fact]
    identity: str  # title, attributes and category: what the product *is*
    extra_terms: list[str] = field(default_factory=list)  # e.g. a marketing topic

    @classmethod
    def from_product(cls, product: Product, extra: list[Fact] | None = None) -> FactSheet:
        title = clean(product.title)
        brand = clean(product.brand) if product.brand else None
        category_leaf = (clean(product.category).split(",")[-1].split(">")[-1].strip()
                         if product.category else None)
        facts = [Fact(title, "title")]
        if product.description:
            facts += [Fact(s, "description") for s in description_facts(
                product.description, f"{title} {brand or ''}")]
        facts += [Fact(clean(f), "feature") for f in product.features]
        facts += [Fact(f"{name}: {value}", "attribute")
                  for name, value in product.attributes.items()]
        if product.price is not None:
            facts.append(Fact(f"Price: {product.price:g} {product.currency or ''}".strip(),
                              "price"))
        if product.category:
            facts.append(Fact(clean(product.category), "category"))
        facts += extra or []
        identity = " ".join([title, *(f"{k} {v}" for k, v in product.attributes.items()),
                             clean(product.category or "")])
        name = short_name(product.title, brand)
        return cls(name=name, title=title, brand=brand,
                   product_type=find_product_type(name, title, category_leaf or ""),
                   category_leaf=category_leaf, facts=facts, identity=identity)

    @cached_property
    def text(self) -> str:
        return "\n".join([*(f.text for f in self.facts), self.brand or ""])

    @cached_property
    def lowered(self) -> str:
        return " " + " ".join(WORD.findall(self.text.lower())) + " "

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        words = {w.lower() for w in WORD.findall(self.text)}
        return frozenset(words | {singular(w) for w in words})

    def stems(self, stem) -> frozenset[str]:
        """The stems of every word in the facts (cached per stemmer)."""
        cache = self.__dict__.setdefault("_stems", {})
        if stem not in cache:
            cache[stem] = frozenset(stem(w) for w in self.vocabulary)
        return cache[stem]

    @cached_property
    def quantities(self) -> list[Quantity]:
        return find_quantities(self.text)

    @cached_property
    def codes(self) -> frozenset[str]:
        return frozenset(codes(self.text))

    def mentions(self, phrase: str, *, identity_only: bool = False) -> bool:
        """Whether the facts contain `phrase` as whole words (plurals included)."""
        haystack = (" " + " ".join(WORD.findall(self.identity.lower())) + " "
                    if identity_only else self.lowered)
        words = WORD.findall(phrase.lower())
        if not words:
            return False
        exact = " " + " ".join(words) + " "
        plural = " " + " ".join([*words[:-1], singular(words[-1])]) + " "
        if exact in haystack or plural in haystack:
            return True
        singular_haystack = " " + " ".join(singular(w) for w in haystack.split()) + " "
        return plural in singular_haystack

    @property
    def sentences(self) -> list[str]:
        """The facts that read as statements (for embedding support and templates)."""
        return [f.text for f in self.facts if f.origin != "category"]

    def as_dict(self) -> dict:
        return {
            "name": self.name, "brand": self.brand, "product_type": self.product_type,
            "facts": [{"text": f.text, "origin": f.origin} for f in self.facts],
            "quantities": sorted({q.text.strip() for q in self.quantities}),
            "codes": sorted(self.codes),
        }
