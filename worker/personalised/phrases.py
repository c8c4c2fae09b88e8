"""The words around a pitch: how it names the shopper's own item, and the e-mail subject.

Written per language by hand (they are the only words of a pitch not drawn from the item's
facts or the model's verified sentences); interest tags are English names, so only English
pitches fall back to them.
"""

from __future__ import annotations

import re

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


def name_variants(name: str) -> list[str]:
    """The name, then shorter leading runs of its words (never ending on a joiner), for
    channels too short for the whole name."""
    words = name.split()
    variants = [name]
    for keep in (5, 4, 3, 2):
        if len(words) > keep:
            cut = words[:keep]
            while cut and (cut[-1].lower() in NAME_JOINERS or not re.search(r"\w", cut[-1])):
                cut.pop()
            short = " ".join(cut).rstrip(",;:-")
            if short and short not in variants:
                variants.append(short)
    return variants


def because(language: str, event: str, name: str) -> list[str]:
    """"Because you bought the X" with each variant of X, longest first."""
    return [BECAUSE[language][event].format(name=n) for n in name_variants(name)]


def interest(language: str, tag: str) -> list[str]:
    template = INTEREST.get(language)
    return [template.format(tag=tag)] if template else []


def subjects(language: str, name: str) -> list[str]:
    return [SUBJECT[language].format(name=n) for n in name_variants(name)] + name_variants(name)


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
