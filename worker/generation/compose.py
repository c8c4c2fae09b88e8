"""Compose a text from verified model sentences, completed by template sentences.

A text is a list of units in a natural order (the opening, then the facts in the client's
order). Each unit is written by the best verified model sentence for it, or else by its
template sentence (the fact itself). The result is never below the template floor: if the
composed text is shorter than the all-template text over the same opening units, the
all-template text is used. Every sentence says where it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worker.generation.candidates import Generation
from worker.generation.text import sentences, tidy, words
from worker.generation.verify import Verdict, Verifier

# A model sentence must keep at least this share of its fact's words to replace it: a
# short, vague rewrite of a long fact loses what the shopper needed to know.
MIN_REWRITE_SHARE = 0.5
FLOOR_UNITS = 3  # the opening and the first two facts: what a plain template would give
DUPLICATE_OVERLAP = 0.6


@dataclass(frozen=True)
class Unit:
    """One sentence slot: its key (matching the prompts' keys) and its template sentence."""

    key: str
    template: str | None
    # A model sentence for this unit must name one of these (an opening names the product).
    must_name: tuple[str, ...] = ()


@dataclass(frozen=True)
class Piece:
    text: str
    source: str  # "model" or "template"
    unit: str
    support: float | None = None

    def as_dict(self) -> dict:
        out = {"text": self.text, "source": self.source, "unit": self.unit}
        if self.support is not None:
            out["support"] = round(self.support, 3)
        return out


def verify_generations(generations: list[Generation], verifier: Verifier,
                       sources: dict[str, str | None], **check_options) -> None:
    """Split each generation into sentences and record a verdict for each (in one pass);
    `sources` maps a prompt key to the fact its sentences must stay close to."""
    split = [[s.strip() for s in sentences(tidy(g.text)) if s.strip()] for g in generations]
    verdicts = verifier.check([s for group in split for s in group],
                              sources=[sources.get(g.key) for g, group in
                                       zip(generations, split, strict=True) for _ in group],
                              **check_options)
    position = 0
    for generation, group in zip(generations, split, strict=True):
        generation.verdicts = verdicts[position: position + len(group)]
        position += len(group)


def _names(text: str, names: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return not names or any(re.search(rf"\b{re.escape(n.lower())}", lowered) for n in names)


def _content(text: str) -> set[str]:
    return {w.lower() for w in words(text) if len(w) > 3}


def _duplicate(text: str, chosen: list[Piece]) -> bool:
    """Whether most of what `text` says (its content words) was said by one chosen piece.
    Measured on the new sentence's own words: a short opening shares the product's name
    with every fact, and that does not make the fact a repetition."""
    mine = _content(text)
    return bool(mine) and any(
        len(mine & _content(piece.text)) / len(mine) > DUPLICATE_OVERLAP for piece in chosen)


def best_model_sentence(unit: Unit, generations: list[Generation]) -> Verdict | None:
    """The kept sentence with the most support among this unit's candidates."""
    floor = len(words(unit.template)) * MIN_REWRITE_SHARE if unit.template else 0
    kept = [v for g in generations if g.key == unit.key for v in g.verdicts
            if v.kept and len(words(v.text)) >= floor and _names(v.text, unit.must_name)]
    return max(kept, key=lambda v: v.support, default=None)


def fill(units: list[Unit], generations: list[Generation], max_words: int,
         use_model: bool = True) -> list[Piece]:
    """Units in order, each as its best verified model sentence or its template, as long as
    the text stays within `max_words`; a unit that does not fit is skipped, not cut."""
    chosen: list[Piece] = []
    total = 0
    for unit in units:
        options: list[Piece] = []
        verdict = best_model_sentence(unit, generations) if use_model else None
        if verdict is not None:
            options.append(Piece(verdict.text, "model", unit.key, verdict.support))
        if unit.template:
            options.append(Piece(unit.template, "template", unit.key))
        for piece in options:
            count = len(words(piece.text))
            if total + count <= max_words and not _duplicate(piece.text, chosen):
                chosen.append(piece)
                total += count
                break
    return chosen


def compose(units: list[Unit], generations: list[Generation], max_words: int) -> list[Piece]:
    """The composed text, never shorter than the template floor (see module docstring)."""
    composed = fill(units, generations, max_words)
    floor = fill(units[:FLOOR_UNITS], [], max_words, use_model=False)
    if word_count(composed) < word_count(floor):
        return fill(units, [], max_words, use_model=False)
    keys = {unit.key for unit in units}
    for generation in generations:
        if generation.key in keys:  # a text composed in parts (marketing) marks each part
            generation.used = [p.text for p in composed if p.source == "model"
                               and p.unit == generation.key
                               and any(v.text == p.text for v in generation.verdicts)]
    return composed


def word_count(pieces: list[Piece]) -> int:
    return sum(len(words(p.text)) for p in pieces)


def model_share(pieces: list[Piece]) -> float:
    total = word_count(pieces)
    model = sum(len(words(p.text)) for p in pieces if p.source == "model")
    return round(model / total, 3) if total else 0.0


def join(pieces: list[Piece]) -> str:
    """Sentences separated by a space, except after Chinese or Japanese punctuation."""
    text = " ".join(p.text for p in pieces)
    text = re.sub(r"([。！？；])\s+", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()
