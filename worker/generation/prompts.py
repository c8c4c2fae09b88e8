"""Prompt templates. Each has an id and a hash recorded on every result for reproducibility.

Small models follow a narrow task far better than an open one, so the model is asked for
one sentence at a time: rewrite this fact, introduce this product. Every sentence it
writes is then verified against the facts (see `verify`); what fails is replaced by the
fact itself (see `templates`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    id: str
    system: str
    user: str
    examples: tuple[tuple[str, str], ...] = ()

    @property
    def hash(self) -> str:
        shots = "\n".join(f"{q}\n{a}" for q, a in self.examples)
        return hashlib.sha256(f"{self.system}\n{self.user}\n{shots}".encode()).hexdigest()[:16]

    def messages(self, **values: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system.format(**values)}]
        for question, answer in self.examples:
            messages += [{"role": "user", "content": question},
                         {"role": "assistant", "content": answer}]
        return messages + [{"role": "user", "content": self.user.format(**values)}]


REWRITE_FACT = Template(
    "rewrite_fact/v2",
    "Rewrite the sentence in a {tone} tone for a product page{audience}. Keep every fact, "
    "number and name exactly. Add nothing. Reply with one sentence{language}.",
    "{fact}",
    examples=(
        ("This desk lamp has a 10-watt LED bulb and a flexible neck.",
         "With its flexible neck and 10-watt LED bulb, this desk lamp puts light right "
         "where you need it."),
        ("The notebook contains 100 sheets of college-ruled paper.",
         "Fill all 100 college-ruled sheets of this notebook with your best ideas."),
    ),
)
INTRODUCE_PRODUCT = Template(
    "introduce_product/v2",
    "Write one {tone} sentence that introduces the product to a shopper{audience}, using "
    "only the given fact. Keep every number and name exactly. Add nothing. Reply with one "
    "sentence{language}.",
    "Product: {name}\nFact: {fact}",
    examples=(
        ("Product: Acme LED Desk Lamp\nFact: The lamp has a flexible neck and a 10-watt LED "
         "bulb.", "Meet the Acme LED Desk Lamp, with a flexible neck and a 10-watt LED bulb."),
        ("Product: Nimbus Notebook\nFact: 100 sheets of college-ruled paper.",
         "The Nimbus Notebook gives you 100 sheets of college-ruled paper."),
    ),
)
SEO_METADATA = Template(
    "seo_metadata/v2",
    "You write search-engine metadata for a product page. Use only the given facts.",
    "Facts:\n{facts}\nWrite three lines:\nTITLE: (under 60 characters, the product name)\n"
    "DESCRIPTION: (one sentence under 160 characters)\nKEYWORDS: (6 comma-separated search "
    "phrases)",
)
SOCIAL_ACK = Template(
    "social_acknowledge/v2",
    "You reply for an online shop on social media. Write one short, {tone} sentence that "
    "thanks the customer for their message. No questions, no promises.",
    "Customer: {message}",
    examples=(("Customer: Love this notebook, best purchase this year!",
               "Thank you so much, we're thrilled you love your notebook!"),),
)


def option_values(tone: str, audience: str | None, language: str) -> dict[str, str]:
    """The tone, audience and language phrases the templates take."""
    return {"tone": tone, "audience": f" for {audience}" if audience else "",
            "language": "" if language.startswith("en") else f" in {language_name(language)}"}


def language_name(code: str) -> str:
    names = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
             "nl": "Dutch", "pt": "Portuguese", "zh": "Chinese", "ja": "Japanese",
             "ko": "Korean"}
    return names.get(code.split("-")[0], code)
