"""Sentence-level verification: a generated sentence is kept only when the facts support it.

What a kept sentence guarantees (each rule is tested with planted sentences):
- every number with its unit occurs in the facts (1/2" = 0.5 in; pack of 100 = 100-count),
  and no number conflicts with one the facts give for the same dimension;
- every model or part number, material, place and brand-like name occurs in the facts;
- every kind of product it names (pen, vacuum, cleanser, machine ...) occurs in the facts;
- it states nothing the facts contradict (corded/cordless, dry/oil-based ...; what the title,
  attributes and category say wins over loose wording in a description);
- its closest fact sentence is at least `min_support` similar (all-MiniLM-L6-v2 cosine),
  and at most a quarter of its content words (glue like "designed", "perfect" aside) are
  words whose stem the facts never use: similarity alone passed fluent nonsense that
  merely named the product;
- it is not meta text (see `meta`), and it is a well-formed, complete sentence.
What it does not guarantee: that an adjective ("sturdy", "popular") is deserved, or that a
claim made only with common words ("lasts for years") is true. Those pass when the
sentence as a whole stays close to a fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from shared.pii import find_pii
from worker.generation.facts import WORD, FactSheet, singular
from worker.generation.language import detect, same_language
from worker.generation.lexicon import entries, pairs
from worker.generation.meta import meta_problems
from worker.generation.quantities import codes, find_quantities, unsupported_quantities
from worker.generation.text import ends_sentence, words
from worker.models.embeddings import Embedder

# Calibrated on Office products (see README, "What the gate guarantees"): faithful
# rewrites of a fact scored 0.55-0.95 against it; sentences about another product of the
# same category 0.25-0.55; chatter and instruction echoes below 0.3.
MIN_SUPPORT = 0.55
MAX_SENTENCE_WORDS = 50
LONG_TOKEN = 25
URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
CAPITALISED = re.compile(r"(?<![.!?:\"“(]\s)(?<!^)\b([A-Z][\w'’&-]*)")
QUOTED = re.compile(r"[\"“”]([^\"“”]{2,40})[\"“”]")
CAMEL = re.compile(r"\b[a-z]+[A-Z]\w*|\b[A-Z][a-z]+[A-Z]\w*")


@dataclass
class Verdict:
    """One sentence's verification: kept or not, and why."""

    text: str
    problems: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # unsupported facts when not blocking
    support: float = 0.0

    @property
    def kept(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"text": self.text, "kept": self.kept, "problems": self.problems,
                "flags": self.flags, "support": round(self.support, 3)}


@cache
def _unknown(word: str) -> bool:
    """Not an English word at all: a misspelt or invented name ("fellowebes")."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") < 1.0


@cache
def _common(word: str) -> bool:
    """Whether `word` is an everyday English word (so a capital may just start a sentence)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= 3.0


def unsupported_names(sentence: str, facts: FactSheet) -> list[str]:
    """Brand-like names, places, people and companies the facts do not contain."""
    found = []
    tokens = WORD.findall(sentence)
    first = tokens[0] if tokens else ""
    for match in CAPITALISED.finditer(sentence):
        name = re.sub(r"(?:'s|’s)$", "", match.group(1).strip("'’-"))
        if name and name != "I" and not facts.mentions(name):
            found.append(name)
    found += [m.group(0) for m in CAMEL.finditer(sentence) if not facts.mentions(m.group(0))]
    if first[:1].isupper() and not facts.mentions(first) and not _common(first.lower()):
        found.append(first)
    lowered = " " + " ".join(w.lower() for w in tokens) + " "
    found += [place for place in entries("places")
              if f" {place} " in lowered and not facts.mentions(place)]
    found += sorted(codes(sentence) - facts.codes)
    found += [q for q in QUOTED.findall(sentence) if not facts.mentions(q)]
    found += [w for w in tokens if len(w) >= 4 and w.isalpha() and not facts.mentions(w)
              and _unknown(w.lower())]
    unique: dict[str, str] = {}
    for name in found:
        unique.setdefault(name.lower(), name)
    return list(unique.values())


def unsupported_materials(sentence: str, facts: FactSheet) -> list[str]:
    remaining = " " + " ".join(w.lower() for w in WORD.findall(sentence)) + " "
    found = []
    for material in entries("materials"):  # longest first: "stainless steel" before "steel"
        if f" {material} " in remaining:
            remaining = remaining.replace(f" {material} ", " ")
            if not facts.mentions(material):
                found.append(material)
    return found


def unsupported_product_types(sentence: str, facts: FactSheet) -> list[str]:
    remaining = " " + " ".join(singular(w) for w in WORD.findall(sentence.lower())) + " "
    found = []
    for noun in entries("product_nouns"):
        if f" {noun} " in remaining:
            remaining = remaining.replace(f" {noun} ", " ")
            if not facts.mentions(noun):
                found.append(noun)
    return found


def _says(text: str, term: str) -> bool:
    pattern = rf"(?<!non-)(?<!non )(?<!not )\b{re.escape(term)}\b"
    return re.search(pattern, text, re.I) is not None


def contradictions(sentence: str, facts: FactSheet) -> list[str]:
    """Terms that contradict the facts: the facts say one side and never this one, or the
    product's identity (title, attributes, category) says the other side."""
    found = []
    for left, right in pairs("antonyms"):
        for claimed, opposite in ((left, right), (right, left)):
            for term in claimed:
                if not _says(sentence, term):
                    continue
                stated = [o for o in opposite if _says(facts.text, o)]
                identity = [o for o in opposite if _says(facts.identity, o)]
                # A sentence naming both sides contrasts them ("corded, so you never lose a
                # cordless handset"); it only needs the facts to use the term too.
                contrasts = any(_says(sentence, o) for o in opposite)
                if (stated and not _says(facts.text, term)) or (
                        identity and not contrasts and not _says(facts.identity, term)):
                    found.append(f"{term} (facts: {(identity or stated)[0]})")
    return found


def form_problems(sentence: str, facts: FactSheet) -> list[str]:
    problems = []
    count = len(words(sentence))
    if count < 3:
        problems.append(f"too short ({count} words)")
    if count > MAX_SENTENCE_WORDS:
        problems.append(f"too long ({count} words)")
    if not ends_sentence(sentence):
        problems.append("not a complete sentence")
    if sentence[:1].islower():
        problems.append("starts in lower case")
    long_tokens = [t for t in sentence.split() if len(t.strip(".,;:!?\"'()")) > LONG_TOKEN
                   and t.lower() not in facts.text.lower()]
    if long_tokens:
        problems.append(f"gibberish token {long_tokens[0][:30]!r}")
    links = [u for u in URL.findall(sentence) if u.lower().rstrip(".,)") not in
             facts.text.lower()]
    if links:
        problems.append(f"link not in the facts {links[0][:40]!r}")
    lettered = [w for w in words(sentence) if sum(c.isalpha() for c in w) >= 3]
    shouted = [w for w in lettered if w.isupper() and w.lower() not in facts.vocabulary]
    if lettered and len(shouted) / len(lettered) > 0.3:
        problems.append("mostly capitals")
    tokens = [w.lower() for w in words(sentence)]
    trigrams = list(zip(tokens, tokens[1:], tokens[2:], strict=False))
    if trigrams and len(set(trigrams)) < len(trigrams) * 0.85:
        problems.append("repeats itself")
    pii = find_pii(sentence)
    if pii:
        problems.append("personal data " + ", ".join(pii))
    return problems


# Words that carry no claim: how copy connects facts ("designed", "perfect", "enjoy").
GLUE = frozenset("""
a an the and or but so yet for nor of to in on at by with from into onto over under about
as than then this that these those it its it's they them their there here you your yours we
our us is are was were be been being has have had do does did can could will would should
may might must not no yes all any each every both either more most much many some such very
just also too only even still well really quite simply easily make makes made making keep
keeps let lets get gets give gives take takes use uses used using need needs want wants help
helps enjoy enjoys offer offers offering provide provides providing feature features featuring
include includes including design designed perfect ideal great good better best nice new
easy easier simple right whenever wherever everything anything something day days time
one ones way ways thanks thank meet discover say hello introducing presenting here comes
""".split())
MAX_NEW_WORDS_SHARE = 0.25
NEGATION = re.compile(r"\b(?:not|no|never|none|without|cannot|can't|won't|doesn't|don't|"
                      r"isn't|aren't|nor)\b|n't\b", re.I)
# Claims of degree a rewrite may not add: the facts must say them first.
DEGREE = re.compile(r"\b(?:best|most|least|ultimate|leading|finest|greatest|top-rated|"
                    r"unbeatable|unmatched|world'?s|guaranteed|forever|up to|only)\b", re.I)


def _stem(word: str) -> str:
    word = singular(word.lower().strip("'’"))
    for suffix in ("ations", "ation", "ability", "ibility", "ness", "ment", "ities", "ity",
                   "ingly", "ing", "edly", "ed", "ly", "able", "ible", "ers", "er", "est",
                   "ive", "al", "ful", "less", "ous", "es", "e", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def new_words(sentence: str, facts: FactSheet) -> tuple[list[str], int]:
    """Content words of `sentence` (not glue) whose stem occurs nowhere in the facts, and
    how many content words it has."""
    fact_stems = facts.stems(_stem)
    content = [w for w in WORD.findall(sentence) if w.isalpha() and len(w) > 2
               and w.lower() not in GLUE]
    return [w for w in content if _stem(w) not in fact_stems], len(content)


def meaning_problems(sentence: str, source: str | None, facts: FactSheet) -> list[str]:
    """A rewrite that turns the fact around ("Disappear is not an option" for "disappears
    on most gift wrap") or claims more than it ("up to", "the best")."""
    problems = []
    reference = source or facts.text
    if source is not None and bool(NEGATION.search(sentence)) != bool(NEGATION.search(source)):
        problems.append("negation differs from the fact it rewrites")
    added = [m.group(0) for m in DEGREE.finditer(sentence)
             if not re.search(rf"\b{re.escape(m.group(0))}\b", reference, re.I)]
    if added:
        problems.append(f"claims what the facts do not: {', '.join(dict.fromkeys(added))}")
    return problems


def fact_problems(sentence: str, facts: FactSheet) -> list[str]:
    problems = [f"number not in the facts: {q}" for q in
                unsupported_quantities(find_quantities(sentence), facts.quantities)]
    problems += [f"name not in the facts: {n}" for n in unsupported_names(sentence, facts)]
    problems += [f"material not in the facts: {m}"
                 for m in unsupported_materials(sentence, facts)]
    problems += [f"product type not in the facts: {t}"
                 for t in unsupported_product_types(sentence, facts)]
    problems += [f"contradicts the facts: {c}" for c in contradictions(sentence, facts)]
    novel, content = new_words(sentence, facts)
    if content and len(novel) / content > MAX_NEW_WORDS_SHARE:
        problems.append(f"{len(novel)} of {content} content words not in the facts: "
                        + ", ".join(novel[:6]))
    return problems


class Verifier:
    """Checks sentences against one fact sheet; the fact sentences are embedded once."""

    def __init__(self, facts: FactSheet, embedder: Embedder, *, block_unsupported: bool = True,
                 min_support: float = MIN_SUPPORT) -> None:
        self.facts = facts
        self.embedder = embedder
        self.block_unsupported = block_unsupported
        self.min_support = min_support
        self.fact_vectors = embedder.encode(facts.sentences or [facts.title])

    def support(self, sentences: list[str], sources: list[str | None] | None = None
                ) -> np.ndarray:
        """Each sentence's cosine similarity to the fact it restates (its source), or to
        its closest fact sentence when it has none."""
        if not sentences:
            return np.zeros(0)
        vectors = self.embedder.encode(sentences)
        best = (vectors @ self.fact_vectors.T).max(axis=1)
        if any(sources or []):
            unique = sorted({s for s in sources if s})
            source_vectors = dict(zip(unique, self.embedder.encode(unique), strict=True))
            for index, source in enumerate(sources):
                if source:
                    best[index] = float(vectors[index] @ source_vectors[source])
        return best

    def check(self, sentences: list[str], *, sources: list[str | None] | None = None,
              language: str = "en", allow_questions: bool = False,
              allow_greeting: bool = False, min_support: float | None = None) -> list[Verdict]:
        threshold = self.min_support if min_support is None else min_support
        verdicts = []
        sources = sources or [None] * len(sentences)
        for sentence, support, source in zip(sentences, self.support(sentences, sources),
                                             sources, strict=True):
            verdict = Verdict(sentence, support=float(support))
            verdict.problems += form_problems(sentence, self.facts)
            verdict.problems += meta_problems(sentence, self.facts,
                                              allow_questions=allow_questions,
                                              allow_greeting=allow_greeting)
            written_in, _ = detect(sentence, fallback=language)
            if not same_language(written_in, language):
                verdict.problems.append(f"written in {written_in}, asked for {language}")
            unsupported = fact_problems(sentence, self.facts)
            unsupported += meaning_problems(sentence, source, self.facts)
            if support < threshold:
                unsupported.append(f"not close enough to the facts (similarity {support:.2f} "
                                   f"< {threshold:.2f})")
            if self.block_unsupported:
                verdict.problems += unsupported
            else:
                verdict.flags += unsupported
            verdicts.append(verdict)
        return verdicts
