"""Word lists the verifier and the templates read: materials, product nouns, places, antonyms.

Kept as plain text files beside this module (one entry per line, `#` comments) so a shop can
read and extend them without reading code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@cache
def entries(name: str) -> tuple[str, ...]:
    """The non-comment lines of `<name>.txt`, lower-cased, longest first."""
    lines = (HERE / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    words = {line.split("#", 1)[0].strip().lower() for line in lines}
    return tuple(sorted((w for w in words if w), key=lambda w: (-len(w), w)))


@cache
def pairs(name: str) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """Lines `a, a2 | b, b2`: two sets of terms that contradict each other."""
    result = []
    for line in entries(name):
        left, _, right = line.partition("|")
        result.append((frozenset(t.strip() for t in left.split(",") if t.strip()),
                       frozenset(t.strip() for t in right.split(",") if t.strip())))
    return tuple(result)
