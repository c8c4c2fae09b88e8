"""Prompt templates. Each has an id and a hash recorded on every result for reproducibility."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.schemas.generation import GenerationOptions, Product

SYSTEM = ("You are an e-commerce copywriter. Use only the facts given. Never invent numbers, "
          "materials, sizes or brands. Reply with the requested text only.")


@dataclass(frozen=True)
class Template:
    id: str
    system: str
    user: str

    @property
    def hash(self) -> str:
        return hashlib.sha256(f"{self.system}\n{self.user}".encode()).hexdigest()[:16]

    def messages(self, **values: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system},
                {"role": "user", "content": self.user.format(**values)}]


PRODUCT_DESCRIPTION = Template(
    "product_description/v1", SYSTEM,
    "Write a {tone} product description of at most {max_words} words{audience}{language}."
    "{keywords}\nProduct facts:\n{facts}",
)
SEO_METADATA = Template(
    "seo_metadata/v1", SYSTEM,
    "Write SEO metadata for this product as four lines:\n"
    "TITLE: (under 60 characters)\nDESCRIPTION: (under 160 characters)\n"
    "KEYWORDS: (6 to 8 comma-separated search phrases)\nALT: (image alt text)\n"
    "{keywords}\nProduct facts:\n{facts}",
)
MARKETING = {
    "article": Template(
        "marketing_copy/article/v1", SYSTEM,
        "Write a {tone} blog article of at most {max_words} words about: {topic}.{audience}"
        "{language}{keywords}\nStart with a title line, then the article.\nProducts:\n{facts}",
    ),
    "email": Template(
        "marketing_copy/email/v1", SYSTEM,
        "Write a {tone} marketing email of at most {max_words} words about: {topic}.{audience}"
        "{language}{keywords}\nStart with a subject line, then the body.\nProducts:\n{facts}",
    ),
    "social_post": Template(
        "marketing_copy/social_post/v1", SYSTEM,
        "Write a {tone} social media post of at most {max_words} words about: {topic}."
        "{audience}{language}{keywords}\nProducts:\n{facts}",
    ),
    "video_script": Template(
        "marketing_copy/video_script/v1", SYSTEM,
        "Write a {tone} short video script about: {topic}.{audience}{language}{keywords}\n"
        "Use 3 scenes. For each scene write two lines, exactly like this example:\n"
        "NARRATION: Meet the desk lamp that follows your day.\nON SCREEN: Light that adapts\n"
        "Products:\n{facts}",
    ),
}
SOCIAL_REPLY = Template(
    "social_reply/v1",
    "You are a helpful social media manager for an online shop. Reply politely and briefly. "
    "Never share personal data. Reply with the message text only.",
    "A customer wrote on {platform}{author}: \"{message}\"\nTheir intent looks like: {intent}."
    "{voice}{product}\nWrite a {tone} reply of at most {max_words} words.",
)


def product_facts(product: Product) -> str:
    """The product as plain lines the model can copy from."""
    lines = [f"- Name: {product.title}"]
    if product.brand:
        lines.append(f"- Brand: {product.brand}")
    if product.category:
        lines.append(f"- Category: {product.category}")
    for name, value in product.attributes.items():
        lines.append(f"- {name}: {value}")
    lines += [f"- Feature: {feature}" for feature in product.features]
    if product.price is not None:
        lines.append(f"- Price: {product.price:g} {product.currency or ''}".rstrip())
    return "\n".join(lines)


def option_phrases(options: GenerationOptions, audience: str | None = None) -> dict[str, str]:
    audience = audience or options.audience
    return {
        "tone": options.tone,
        "max_words": str(options.max_words),
        "audience": f" for {audience}" if audience else "",
        "language": "" if options.language == "en" else f" in the language {options.language}",
        "keywords": (f"\nInclude these keywords: {', '.join(options.keywords)}."
                     if options.keywords else ""),
    }
