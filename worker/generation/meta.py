"""Meta text: a sentence that talks to the requester or about the task instead of selling.

Fixed phrases catch only what was seen before, so the rules are about kinds of sentence:
assistant voice (first person singular, "let me know", greetings and sign-offs), talking
to the shop rather than its customer ("your customers", "your product"), questions back,
placeholders in brackets, and words of the prompt's own instructions that the product's
facts do not contain ("rewrite", "sentence", "tone", "product information" ...).
"""

from __future__ import annotations

import re

from worker.generation.facts import FactSheet

FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I've|I’ve|I'd|I’d|I'll|I’ll|me|my|mine|myself)\b")
ASSISTANT = re.compile(
    r"\b(?:as an ai|language model|let me know|feel free|hope (?:this|that) helps|"
    r"happy to help|glad to help|any (?:further|other|more) questions|as requested|"
    r"you(?:'ve| have)? (?:asked|requested|provided|mentioned|shared)|"
    r"here(?:'s| is| are)\b|below is|above is|the following|in conclusion|"
    r"(?:sure|certainly|of course|absolutely|okay|ok)[,!.]|"
    r"(?:great|good|excellent|fantastic|what a) (?:question|idea|choice)\b|"
    r"i can(?:'|’)?t|i cannot|i(?:'|’)m (?:sorry|unable|glad|happy)|note:|disclaimer)",
    re.I)
GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear|greetings|thanks|thank you)\b", re.I)
TO_THE_SHOP = re.compile(
    r"\byour (?:product|products|customers?|store|shop|brand|business|company|audience|"
    r"listing|description|request|website|page|post|copy|text)\b", re.I)
PLACEHOLDER = re.compile(r"\[[^\]]*\]|\{[^}]*\}|<[^>]*>|\bX{3,}\b|\bTBD\b|\.\.\.|…")
# Asking a customer for contact details in public: replies send people to a private channel.
ASKS_FOR_DETAILS = re.compile(
    r"\b(?:send|share|give|provide|post|tell|leave|include|write|comment|reply with|drop)\b"
    r"[^.!?]{0,40}\b(?:e-?mail|phone|mobile|(?<!order )number|address|card|password|"
    r"birthday|date of birth|full name)\b", re.I)
PRIVATE_CHANNEL = re.compile(r"\b(?:direct message|dm|private message|privately|inbox)\b", re.I)
LABEL = re.compile(r"^\s*[A-Z][A-Za-z ]{1,20}:\s")  # "Product: ...", "Title: ...", "Fact: ..."
MARKUP = re.compile(r"^\s*(?:#+|\*|-|\d+[.)])\s|\*\*|__|```")
# Words of our own instructions; a sentence using one the facts lack is about the task.
INSTRUCTION_WORDS = frozenset("""
rewrite rewritten rewriting sentence sentences tone fact facts instruction instructions
prompt paragraph paragraphs word count bullet bullets output format example examples
version answer answers response reply replies description descriptions copywriter
requester request task assistant information seo keyword keywords metadata meta insert
""".split())
TALK_ABOUT_TEXT = re.compile(
    r"\b(?:this|the|my|a|your) (?:description|product information|answer|response|text|"
    r"copy|sentence|rewrite|version|post|article|script)\b", re.I)


def meta_problems(sentence: str, facts: FactSheet, *, allow_questions: bool = False,
                  allow_greeting: bool = False) -> list[str]:
    """Why `sentence` is meta text (empty if it is not)."""
    problems = []
    if FIRST_PERSON.search(sentence):
        problems.append(f"assistant voice {FIRST_PERSON.search(sentence).group(0)!r}")
    match = ASSISTANT.search(sentence)
    if match:
        problems.append(f"assistant phrase {match.group(0)!r}")
    if not allow_greeting and GREETING.search(sentence):
        problems.append("greeting or thanks")
    match = TO_THE_SHOP.search(sentence)
    if match:
        problems.append(f"speaks to the shop {match.group(0)!r}")
    match = PLACEHOLDER.search(sentence)
    if match:
        problems.append(f"placeholder {match.group(0)!r}")
    if MARKUP.search(sentence):
        problems.append("markup")
    if ASKS_FOR_DETAILS.search(sentence) and not PRIVATE_CHANNEL.search(sentence):
        problems.append("asks for personal details in public")
    if LABEL.search(sentence):
        problems.append(f"label {LABEL.search(sentence).group(0).strip()!r}")
    if not allow_questions and sentence.rstrip().endswith("?"):
        problems.append("question back")
    words = {w.lower().strip("'’") for w in re.findall(r"[A-Za-z'’]+", sentence)}
    leaked = sorted(w for w in words & INSTRUCTION_WORDS if not facts.mentions(w))
    if leaked:
        problems.append(f"instruction words {', '.join(leaked)}")
    match = TALK_ABOUT_TEXT.search(sentence)
    if match and not facts.mentions(match.group(0).split(" ", 1)[1]):
        problems.append(f"talks about the text {match.group(0)!r}")
    return problems
