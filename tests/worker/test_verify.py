"""The sentence verifier on planted generations: each defect seen in real output is dropped,
and a faithful sentence about the same product is kept (so the gate is not just closed)."""

from __future__ import annotations

import pytest

from shared.schemas.generation import Product
from worker.generation.facts import FactSheet
from worker.generation.verify import Verifier

PRODUCTS = {
    "lube": Product(title="Super Lube 11004 Dry Film PTFE Lubricant Spray, 11 oz",
                    brand="Super Lube",
                    description="A dry PTFE lubricant that leaves a clean, non-staining film. "
                                "It repels dust and dirt and works on metal, wood and plastic."),
    "valve": Product(title='1/2" Stainless Steel Ball Valve, Full Port, 1000 WOG',
                     brand="Midline", category="Plumbing, Valves",
                     description="A full port ball valve made of stainless steel for water, "
                                 "oil and gas lines. The lever handle turns a quarter turn "
                                 "to open or close."),
    "gloves": Product(title="Disposable Nitrile Gloves, Pack of 100, Large",
                      brand="Medline",
                      description="Powder-free nitrile exam gloves in a box of 100. "
                                  "Textured fingertips give a secure grip."),
    "vacuum": Product(title="Dyson V8 Absolute Cordless Vacuum Cleaner", brand="Dyson",
                      description="The Dyson V8 Absolute runs for up to 40 minutes on one "
                                  "charge. It converts to a handheld vacuum for stairs and "
                                  "cars."),
    "file": Product(title='Nicholson 12" Lathe File, Long Angle, Bastard Cut',
                    brand="Nicholson",
                    description="A long angle lathe file for filing work that turns in a "
                                "lathe. The bastard cut removes metal quickly."),
    "airlock": Product(title="Fermtech Three-Piece Airlocks, 6-Pack", brand="Fermtech",
                       description="Three-piece airlocks for wine and beer fermentation. "
                                   "Each airlock comes apart for easy cleaning."),
    "phone": Product(title="AT&T 210 Corded Phone, Black, 1 Handset", brand="AT&T",
                     category="Office Electronics, Telephones & Accessories, Corded Telephones",
                     description="Simple corded operation means you never have to worry about "
                                 "misplacing a cordless handset. A 12-number memory lets you "
                                 "store your most frequently called numbers."),
}

# (product, planted sentence, a word the reason must contain)
DROPPED = [
    # invented facts
    ("airlock", "Manufactured by Fermtech International in Denver, Colorado.", "name"),
    ("gloves", "These nitrile gloves are sold in packs of 5.", "number"),
    ("valve", "This copper ball valve opens with a quarter turn.", "material"),
    ("lube", "This oil base lubricant repels dust and dirt.", "contradicts"),
    ("valve", 'This 1.5" stainless steel ball valve has a full port.', "number"),
    ("phone", "This cordless phone stores your most frequently called numbers.", "contradicts"),
    ("phone", "Store up to 15 frequently called numbers in its memory.", "number"),
    # the wrong product
    ("vacuum", "The Dyson Cosmetics Cleanser leaves your skin soft and clean.", "name"),
    ("file", "These jewelry making machines remove metal quickly.", "product type"),
    ("phone", "The 210 Color Smartphone keeps your numbers close.", "product type"),
    # echoed prompts and assistant voice
    ("valve", "Here is my product information: a full port ball valve.", "assistant"),
    ("valve", "The answers must contain exactly 2 paragraphs.", "instruction"),
    ("valve", "Let me know if you have any further questions.", "assistant"),
    ("valve", "Hi [Customer's Name]!!", "placeholder"),
    ("valve", "Sure! This stainless steel valve has a full port.", "assistant"),
    ("valve", "Your customers will love this stainless steel ball valve.", "shop"),
    ("valve", "Does this ball valve fit your water lines?", "question"),
    ("valve", "Rewrite the sentence: the valve is made of stainless steel.", "instruction"),
    ("valve", "Product: 1/2 inch Stainless Steel Ball Valve with a full port.", "label"),
    ("valve", "I think this stainless steel valve is great for oil and gas lines.", "voice"),
    # fluent nonsense that names the product
    ("file", "Nicholson lathe files bring joy and creativity to every family gathering.",
     "content words"),
    ("vacuum", "The Dyson V8 Absolute is beloved by celebrities around the globe.",
     "content words"),
    # form
    ("valve", "A full port ball valve made of stainless steel for water, oil and gas",
     "complete"),
    ("valve", "The valve valve valve valve valve valve valve valve is great.", "repeats"),
]
KEPT = [
    ("airlock", "These three-piece airlocks come apart for easy cleaning."),
    ("gloves", "Each box holds 100 powder-free nitrile exam gloves."),
    ("valve", "Turn the lever handle a quarter turn to open or close this ball valve."),
    ("lube", "This dry PTFE lubricant leaves a clean, non-staining film."),
    ("valve", "This 0.5 inch stainless steel ball valve has a full port."),
    ("vacuum", "The Dyson V8 Absolute runs for up to 40 minutes on one charge."),
    ("file", "The bastard cut of this lathe file removes metal quickly."),
    ("phone", "Simple corded operation means you never misplace a cordless handset."),
]


@pytest.fixture(scope="module")
def verifiers(embedder):
    """One verifier per planted product, blocking unsupported facts (the default)."""
    return {name: Verifier(FactSheet.from_product(p), embedder) for name, p in PRODUCTS.items()}


@pytest.mark.parametrize(("product", "sentence", "reason"), DROPPED)
def test_planted_defects_are_dropped(verifiers, product, sentence, reason):
    [verdict] = verifiers[product].check([sentence])
    assert not verdict.kept, sentence
    assert any(reason in problem for problem in verdict.problems), verdict.problems


@pytest.mark.parametrize(("product", "sentence"), KEPT)
def test_faithful_sentences_are_kept(verifiers, product, sentence):
    [verdict] = verifiers[product].check([sentence])
    assert verdict.kept, verdict.problems


def test_unsupported_facts_are_flagged_not_dropped_when_the_operator_says_so(embedder):
    lenient = Verifier(FactSheet.from_product(PRODUCTS["gloves"]), embedder,
                       block_unsupported=False)
    [numbers] = lenient.check(["These nitrile gloves are sold in packs of 5."])
    assert numbers.kept and any("number" in f for f in numbers.flags)
    [meta] = lenient.check(["Let me know if you have any further questions."])
    assert not meta.kept  # meta text is never publishable, whatever the setting


def test_a_sentence_in_another_language_is_dropped(verifiers):
    [verdict] = verifiers["valve"].check(["Dieses Kugelventil aus Edelstahl hat einen vollen "
                                          "Durchgang für Wasser, Öl und Gas."])
    assert not verdict.kept and any("written in de" in p for p in verdict.problems)
    [chinese] = verifiers["valve"].check(["这个不锈钢球阀适用于水、油和气体管道。"],
                                         language="zh")
    assert not any("written in" in p for p in chinese.problems)


def test_support_is_measured_against_the_fact_a_sentence_restates(verifiers):
    fact = "The lever handle turns a quarter turn to open or close."
    close, far = verifiers["valve"].check(
        ["Open or close it with a quarter turn of the lever handle.",
         "Open or close it with a quarter turn of the lever handle."],
        sources=[fact, "A full port ball valve made of stainless steel for water, oil and gas "
                       "lines."])
    assert close.support > far.support
    assert close.kept


def test_a_rewrite_that_turns_the_fact_around_is_dropped(embedder):
    tape = FactSheet.from_product(Product(
        title="Scotch Gift Wrap Tape, 3 Rolls", brand="Scotch",
        description="On most gift wrap, the tape disappears. It is photo safe."))
    fact = "On most gift wrap, the tape disappears."
    reversed_, kept = Verifier(tape, embedder).check(
        ["On most gift wrap, this tape does not disappear.",
         "This tape disappears on most gift wrap."], sources=[fact, fact])
    assert not reversed_.kept and any("negation" in p for p in reversed_.problems)
    assert kept.kept, kept.problems


def test_a_rewrite_may_not_claim_more_than_the_facts(verifiers):
    [verdict] = verifiers["gloves"].check(["These are the best nitrile exam gloves, with up "
                                           "to 100 in a box."])
    assert not verdict.kept
    assert any("best" in p and "up to" in p for p in verdict.problems), verdict.problems


@pytest.mark.parametrize(("sentence", "asks"), [
    ("Please share your phone number so we can call you.", True),
    ("Leave your email address in the comments.", True),
    ("Reply with your full name and address.", True),
    ("Please send us a direct message with your order number.", False),
])
def test_a_reply_never_asks_for_personal_details_in_public(verifiers, sentence, asks):
    from worker.generation.meta import meta_problems

    problems = meta_problems(sentence, verifiers["valve"].facts, allow_greeting=True)
    assert ("asks for personal details in public" in problems) is asks
