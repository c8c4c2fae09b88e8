"""Which language a text is in: scripts decide CJK, py3langid the rest.

Short messages are hard ("Great pen" scores Romanian at 17 %), so a Latin-script text is
only given a language other than the fallback when the identifier is confident.
"""

from __future__ import annotations

import re
from functools import cache

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da", "tr", "ru", "zh",
             "ja", "ko", "ar")
MIN_CONFIDENCE = 0.8
HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
KANA = re.compile(r"[\u3040-\u30ff]")
HANGUL = re.compile(r"[\uac00-\ud7af]")


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect(text: str, fallback: str = "en") -> tuple[str, float]:
    """(language code, confidence) of `text`; `fallback` when nothing is certain."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return fallback, 0.0
    if len(KANA.findall(text)) / len(letters) > 0.1:
        return "ja", 1.0
    if len(HANGUL.findall(text)) / len(letters) > 0.3:
        return "ko", 1.0
    if len(HAN.findall(text)) / len(letters) > 0.3:
        return "zh", 1.0
    language, confidence = _identifier().classify(text)
    if confidence < MIN_CONFIDENCE:
        return fallback, float(confidence)
    return language, float(confidence)


def same_language(code: str, other: str) -> bool:
    return code.split("-")[0].lower() == other.split("-")[0].lower()
