"""The words around a pitch: how it names the shopper's own item, and the e-mail subject.

Written per language by hand (they are the only words of a pitch not drawn from the item's
facts or the model's verified sentences); interest tags are English names, so only English
pitches fall back to them.
"""

from __future__ import annotations

import re

from worker.generation.facts import last_product_noun, singular

BECAUSE = {
    "en": {"purchase": "Because you bought the {name}", "cart": "Because you added the {name} "
           "to your cart", "view": "Because you looked at the {name}"},
    "de": {"purchase": "Weil Sie {name} gekauft haben", "cart": "Weil Sie {name} in den "
           "Warenkorb gelegt haben", "view": "Weil Sie sich {name} angesehen haben"},
    "fr": {"purchase": "Parce que vous avez acheté {name}", "cart": "Parce que vous avez "
           "ajouté {name} à votre panier", "view": "Parce que vous avez regardé {name}"},
    "es": {"purchase": "Porque compraste {name}", "cart": "Porque añadiste {name} a tu "
           "carrito", "view": "Porque miraste {name}"},
    "it": {"purchase": "Perché hai acquistato {name}", "cart": "Perché hai aggiunto {name} al "
           "carrello", "view": "Perché hai guardato {name}"},
    "nl": {"purchase": "Omdat je {name} hebt gekocht", "cart": "Omdat je {name} in je "
           "winkelwagen hebt gelegd", "view": "Omdat je {name} hebt bekeken"},
    "pt": {"purchase": "Porque você comprou {name}", "cart": "Porque você adicionou {name} ao "
           "carrinho", "view": "Porque você viu {name}"},
}
INTEREST = {"en": "For your interest in {tag}"}
SUBJECT = {"en": "Picked for you: {name}", "de": "Für Sie ausgewählt: {name}",
           "fr": "Choisi pour vous : {name}", "es": "Elegido para ti: {name}",
           "it": "Scelto per te: {name}", "nl": "Voor jou gekozen: {name}",
           "pt": "Escolhido para você: {name}"}
# After the colon a sentence goes on in lower case, except in German (and for names).
KEEPS_CAPITAL_AFTER_COLON = {"de"}
COLON = {"fr": " : "}

NAME_JOINERS = {"&", "and", "-", "/", "+", "of", "for", "with", "in", "by", "the", "a"}
# A size, weight or count ("11\"", "110lbs", "4-Count") is not where a product's name ends.
MEASUREMENT = re.compile(r"(\d[\"']|\d[\s-]*(lbs?|oz|mm|cm|ft|in|inch|inches|x|count|ct|pk|pack)$"
                         r"|^x$)", re.I)


def _core(name: str) -> str:
    """The name before "with ..." or "for ...": what the product is, not what comes with it."""
    return re.split(r"\s+(?:for|with|compatible with|fits)\s+", name, maxsplit=1,
                    flags=re.I)[0]


def _ends_on_its_noun(words: list[str]) -> str | None:
    """The product noun `words` end on ("... Photo Printer" -> "printer"), if any."""
    noun = last_product_noun(" ".join(words))
    return noun if noun and noun.split()[-1] == singular(words[-1].lower()) else None


def _ends_a_name(cut: list[str], core: list[str]) -> bool:
    """Whether a shortened name may stop after `cut`: on a model number ("Canon SELPHY
    CP900") or where the product's own noun ends ("Wilson Jones Binder" from "Wilson Jones
    Binder with Pockets"), never on a size, a joiner, a letter or an adjective ("... Heavy
    Duty Round", "... 4530B008 C")."""
    last = cut[-1].strip(",;:-")
    if len(last) <= 1 or last.lower() in NAME_JOINERS or MEASUREMENT.search(last):
        return False
    if re.search(r"\d", last):
        return True
    return cut == core and _ends_on_its_noun(cut) is not None


def name_variants(name: str, brand: str | None = None) -> list[str]:
    """The name, then shorter ways to say it, longest first, for channels too short for the
    whole name: leading runs of its words that end a name (see `_ends_a_name`), and the
    brand with the kind of product ("Smead organizer") when the name says both."""
    words, core = name.split(), _core(name).split()
    variants = [name]
    for keep in range(min(len(words) - 1, len(core)), 1, -1):
        if _ends_a_name(words[:keep], core):
            variants.append(" ".join(words[:keep]).rstrip(",;:-"))
    noun = _ends_on_its_noun(core) if core else None
    if brand and noun and brand.lower() in name.lower() and noun not in brand.lower():
        variants.append(f"{brand} {noun}")
    unique = {v.lower(): v for v in reversed(variants) if v}  # the first spelling wins
    shorter = [v for key, v in unique.items() if key != name.lower()]
    return [name, *sorted(shorter, key=len, reverse=True)]


def recognisable_names(name: str, brand: str | None = None) -> list[str]:
    """Ways a sentence may name the product so a reader knows which one it is: the
    `name_variants`, and the name's first three or more words ("BIC For Her" for "BIC For Her
    Fashion Retractable Ball Pen"): looser than what copy shortens a name to, stricter than
    the brand alone (a sentence about "BIC pens" may be about any of them)."""
    words = name.split()
    runs = [" ".join(words[:keep]) for keep in range(len(words) - 1, 2, -1)
            if words[keep - 1].lower() not in NAME_JOINERS]
    return list(dict.fromkeys([*name_variants(name, brand), *runs]))


def because(language: str, event: str, name: str, brand: str | None = None) -> list[str]:
    """"Because you bought the X" with each variant of X, longest first."""
    return [BECAUSE[language][event].format(name=n) for n in name_variants(name, brand)]


def interest(language: str, tag: str) -> list[str]:
    template = INTEREST.get(language)
    return [template.format(tag=tag)] if template else []


def subjects(language: str, name: str, brand: str | None = None) -> list[str]:
    names = name_variants(name, brand)
    return [SUBJECT[language].format(name=n) for n in names] + names


def after_colon(sentence: str, language: str, names: set[str]) -> str:
    """The sentence as it goes on after `lead:`: its first letter lowered, unless it starts
    a name (or an acronym, a model number) or the language keeps the capital."""
    first = sentence.split(maxsplit=1)[0] if sentence.split() else ""
    keep = (language in KEEPS_CAPITAL_AFTER_COLON or first.strip(",.:;'").lower() in names
            or not first[:1].isupper() or first[1:2].isupper() or any(c.isdigit() for c in first))
    return sentence if keep else sentence[0].lower() + sentence[1:]


def joined(lead: str, sentence: str, language: str, names: set[str]) -> str:
    """`lead: sentence` (see after_colon)."""
    return f"{lead}{COLON.get(language, ': ')}{after_colon(sentence, language, names)}"
