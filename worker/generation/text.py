"""Tidying model output before it is checked: strip wrappers, keep whole sentences."""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")
ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
WORD = re.compile(r"[\w'’-]+")


def words(text: str) -> list[str]:
    return WORD.findall(text)


def ends_sentence(text: str) -> bool:
    """Ends with terminal punctuation, possibly followed by closing quotes or brackets."""
    return bool(ENDS_SENTENCE.search(text))


def tidy(text: str) -> str:
    """Drop markdown emphasis, surrounding quotes and runs of blank lines."""
    text = text.replace("**", "").replace("__", "").strip()
    if len(text) > 1 and text[0] in "\"“'" and text[-1] in "\"”'":
        text = text[1:-1].strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text.strip()) if s.strip()]


def fit_sentences(text: str, max_words: int) -> str:
    """The longest run of whole sentences within `max_words`; a cut-off tail is dropped.

    A model stopped by its token budget ends mid-sentence; the sentences before the cut are
    still good copy. If not even one whole sentence fits, the text is returned unchanged and
    the checks reject it.
    """
    kept, count = [], 0
    for sentence in sentences(text):
        n = len(words(sentence))
        if not ends_sentence(sentence) or count + n > max_words:
            break
        kept.append(sentence.strip())
        count += n
    return " ".join(kept) if kept else text.strip()
