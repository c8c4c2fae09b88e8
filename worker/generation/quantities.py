"""Numbers with their units, normalised so that 1/2" and 0.5 inch compare equal.

A claim like "packs of 5" or "a 1.5 inch valve" is checked against the product's facts by
value and dimension: lengths in millimetres, weights in grams, volumes in millilitres,
counts (pack of 100, 100-count, 100 pens) as plain counts. Model and part numbers
("HX5610/30", "27131-D") are codes, not quantities: they are matched as names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# unit word -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "mm": ("length", 1), "millimeter": ("length", 1), "millimetre": ("length", 1),
    "cm": ("length", 10), "centimeter": ("length", 10), "centimetre": ("length", 10),
    "m": ("length", 1000), "meter": ("length", 1000), "metre": ("length", 1000),
    "in": ("length", 25.4), "inch": ("length", 25.4), '"': ("length", 25.4),
    "''": ("length", 25.4), "”": ("length", 25.4), "ft": ("length", 304.8),
    "foot": ("length", 304.8), "feet": ("length", 304.8), "'": ("length", 304.8),
    "yd": ("length", 914.4), "yard": ("length", 914.4), "mile": ("length", 1609344),
    "g": ("mass", 1), "gram": ("mass", 1), "kg": ("mass", 1000), "kilogram": ("mass", 1000),
    "oz": ("mass", 28.35), "ounce": ("mass", 28.35), "lb": ("mass", 453.6),
    "lbs": ("mass", 453.6), "pound": ("mass", 453.6),
    "ml": ("volume", 1), "milliliter": ("volume", 1), "millilitre": ("volume", 1),
    "l": ("volume", 1000), "liter": ("volume", 1000), "litre": ("volume", 1000),
    "fl oz": ("volume", 29.57), "gallon": ("volume", 3785), "gal": ("volume", 3785),
    "quart": ("volume", 946), "cup": ("volume", 240),
    "w": ("power", 1), "watt": ("power", 1), "kw": ("power", 1000),
    "v": ("voltage", 1), "volt": ("voltage", 1), "mah": ("charge", 1), "ah": ("charge", 1000),
    "hz": ("frequency", 1), "khz": ("frequency", 1e3), "mhz": ("frequency", 1e6),
    "ghz": ("frequency", 1e9), "mb": ("data", 1), "gb": ("data", 1e3), "tb": ("data", 1e6),
    "mph": ("speed", 1), "rpm": ("rotation", 1), "dpi": ("resolution", 1),
    "ppm": ("print rate", 1), "db": ("loudness", 1),
    "second": ("time", 1), "sec": ("time", 1), "minute": ("time", 60), "min": ("time", 60),
    "hour": ("time", 3600), "hr": ("time", 3600), "day": ("time", 86400),
    "week": ("time", 604800), "month": ("time", 2.63e6), "year": ("time", 3.156e7),
    "%": ("percent", 1), "percent": ("percent", 1), "°": ("degrees", 1), "degree": ("degrees", 1),
    "count": ("count", 1), "ct": ("count", 1), "pack": ("count", 1), "pk": ("count", 1),
    "piece": ("count", 1), "pcs": ("count", 1), "pc": ("count", 1), "pair": ("count", 2),
}
NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
    "thousand": 1000, "dozen": 12,
}
VULGAR = {"½": 0.5, "¼": 0.25, "¾": 0.75, "⅓": 1 / 3, "⅔": 2 / 3, "⅛": 0.125}

# A candidate code: alphanumeric runs joined by - or / (XR500, HX5610/30, 27131-D, GSF11-Blk).
TOKEN = re.compile(r"(?<![\w.])[A-Za-z0-9]+(?:[/-][A-Za-z0-9]+)*")
_NUMBER = r"(?:\d+\s+\d+/\d+|\d+-\d+/\d+|\d+/\d+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)"
_UNIT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
# "pack of 100", "set of 12", "box of 50"
PACK_OF = re.compile(rf"\b(?:pack|set|box|case|bag|bundle|carton|package)\s+of\s+({_NUMBER})\b",
                     re.I)
QUANTITY = re.compile(
    rf"(?<![\w.])({_NUMBER})\s*(?:-\s*)?(?:({_UNIT})(?:e?s)?\b|({_UNIT})(?=\W|$)|([a-z]+))?",
    re.I)
WORD_NUMBER = re.compile(rf"\b({'|'.join(NUMBER_WORDS)})\b(?:[\s-]+([a-z]+))?", re.I)


@dataclass(frozen=True)
class Quantity:
    value: float  # in the dimension's base unit (mm, g, ml, count ...)
    dimension: str  # "length", "mass", ..., "count", or "number" (no unit)
    text: str
    raw: float  # the number as written

    def matches(self, other: Quantity) -> bool:
        """Same dimension and value (2 % slack for unit rounding); a bare number or a
        count matches any fact that has the same number as written."""
        if "number" in (self.dimension, other.dimension) or "count" in (self.dimension,
                                                                        other.dimension):
            return _close(self.raw, other.raw)
        return self.dimension == other.dimension and _close(self.value, other.value)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(abs(a), abs(b)) * 0.02 + 1e-9


def parse_number(text: str) -> float:
    text = text.replace(",", "").strip()
    whole_fraction = re.fullmatch(r"(\d+)[\s-]+(\d+)/(\d+)", text)
    if whole_fraction:
        whole, num, den = map(int, whole_fraction.groups())
        return whole + num / den if den else float(whole)
    fraction = re.fullmatch(r"(\d+)/(\d+)", text)
    if fraction:
        num, den = map(int, fraction.groups())
        return num / den if den else float(num)
    return float(text)


def _singular(word: str) -> str:
    word = word.lower()
    for suffix, replacement in (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"),
                                ("sses", "ss"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            return word[: -len(suffix)] + replacement
    return word


# Words after a number that make it a count of things ("12 pens", "20 sheets").
NOT_COUNT_NOUNS = frozenset("and or to x by of in on for with the a an is are at from".split())


def find_quantities(text: str) -> list[Quantity]:
    """Every number in `text` with its dimension; codes and their digits are skipped."""
    found: list[Quantity] = []
    for vulgar, value in VULGAR.items():
        for match in re.finditer(rf"(\d*)\s*{vulgar}\s*(?:({_UNIT})\b)?", text):
            whole = float(match.group(1)) if match.group(1) else 0.0
            found.append(_make(whole + value, match.group(2), match.group(0)))
        text = text.replace(vulgar, " ")
    for match in reversed(_code_spans(text)):
        text = text[: match.start()] + " " + text[match.end():]
    for match in PACK_OF.finditer(text):
        value = parse_number(match.group(1))
        found.append(Quantity(value, "count", match.group(0), value))
    text = PACK_OF.sub(" ", text)
    for match in QUANTITY.finditer(text):
        number, unit, symbol, noun = match.groups()
        try:
            value = parse_number(number)
        except (ValueError, ZeroDivisionError):
            continue
        unit = unit or symbol
        if unit is None and noun and noun.lower() not in NOT_COUNT_NOUNS:
            singular = _singular(noun)
            if singular in UNITS:
                unit = singular
            else:
                found.append(Quantity(value, "count", match.group(0).strip(), value))
                continue
        found.append(_make(value, unit, match.group(0).strip()))
    for match in WORD_NUMBER.finditer(text):
        value = float(NUMBER_WORDS[match.group(1).lower()])
        found.append(Quantity(value, "number", match.group(0), value))
    return found


def _make(value: float, unit: str | None, text: str) -> Quantity:
    if not unit:
        return Quantity(value, "number", text, value)
    key = unit.lower()
    key = key if key in UNITS else _singular(key)
    dimension, factor = UNITS.get(key, ("number", 1))
    return Quantity(value * factor, dimension, text, value)


def _is_measure(segment: str) -> bool:
    measure = re.fullmatch(r"\d+(?:\.\d+)?([a-z]+)", segment, re.I)
    return bool(measure) and (measure.group(1).lower() in UNITS
                              or _singular(measure.group(1)) in UNITS)


def _is_code(token: str) -> bool:
    """XR500, e3000, GSF11-Blk, 27131-D, EL-334MB, PG-40 are codes; 8mm, 100-count,
    13-Number and 2-Pack are not."""
    segments = [s for s in re.split(r"[/-]", token) if s]
    if not any(c.isdigit() for c in token) or not any(c.isalpha() for c in token):
        return False
    mixed = [s for s in segments if re.search(r"\d", s) and re.search(r"[A-Za-z]", s)]
    if len(segments) == 1:
        return not _is_measure(segments[0])
    if any(not _is_measure(s) for s in mixed):
        return True
    digits = any(s.isdigit() for s in segments) or bool(mixed)
    return digits and any(s.isalpha() and len(s) <= 3 for s in segments)


def _code_spans(text: str) -> list[re.Match]:
    return [m for m in TOKEN.finditer(text) if _is_code(m.group(0))]


def codes(text: str) -> set[str]:
    """Model and part numbers in `text`, lower-cased."""
    return {m.group(0).lower() for m in _code_spans(text)}


def unsupported_quantities(claims: list[Quantity], facts: list[Quantity]) -> list[str]:
    """Claims no fact supports: a measure needs the same dimension and value (so 1.5 in is
    refused where the facts say 1/2"), a count or bare number the same number."""
    return [claim.text for claim in claims if not any(claim.matches(f) for f in facts)]
