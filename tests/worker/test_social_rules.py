"""Social replies: intent, escalation and language, in English and Chinese."""

from __future__ import annotations

import pytest

from shared.schemas.generation import ReplySettings
from worker.generation.intents import classify
from worker.generation.language import detect
from worker.generation.social import localised, reply_settings

ESCALATED = [
    ("You people are idiots, worst shop ever", "en", "abuse"),
    ("This is a scam and you are thieves", "en", "abuse"),
    ("I'll sue you and call the police", "en", "abuse"),
    ("My stapler arrived damaged, the spring is cracked.", "en", "complaint"),
    ("It stopped working after two days.", "en", "complaint"),
    ("I want a refund now!", "en", "complaint"),
    ("你们的产品是垃圾，客服也太差了", "zh", "abuse"),
    ("骗子！", "zh", "abuse"),
    ("收到的订书机是坏的，我要退款", "zh", "complaint"),
    ("包裹到的时候已经破损了", "zh", "complaint"),
]
NOT_ESCALATED = [
    ("When will my order ship?", "en", "question", "shipping"),
    ("Can I return it if it doesn't fit?", "en", "question", "returns"),
    ("What size is the board?", "en", "question", "sizing"),
    ("Best stapler I have ever owned, thank you!", "en", "praise", None),
    ("什么时候发货？", "zh", "question", "shipping"),
    ("这个订书机有红色的吗？", "zh", "question", "product"),
    ("非常喜欢，谢谢！", "zh", "praise", None),
]


@pytest.mark.parametrize(("message", "language", "intent"), ESCALATED)
def test_defects_damage_refunds_threats_and_insults_are_escalated(intents, message, language,
                                                                  intent):
    assert detect(message)[0] == language
    result = classify(message, language, intents)
    assert result.intent == intent and result.escalate and result.reasons
    assert result.sentiment == "negative"


@pytest.mark.parametrize(("message", "language", "intent", "topic"), NOT_ESCALATED)
def test_questions_and_praise_are_not_escalated(intents, message, language, intent, topic):
    assert detect(message)[0] == language
    result = classify(message, language, intents)
    assert (result.intent, result.topic, result.escalate) == (intent, topic, False)


def test_spam_is_recognised(intents):
    assert classify("Click here to win a free iPhone!!! crypto giveaway", "en",
                    intents).intent == "spam"


def test_reply_settings_from_the_job_override_the_stored_ones_field_by_field():
    stored = {"shipping": "We ship in 5 days.", "returns": "Free returns for 30 days."}
    merged = reply_settings(ReplySettings(shipping={"en": "We ship in 2 days.",
                                                    "zh": "两天内发货。"}), stored)
    assert localised(merged.shipping, "zh") == "两天内发货。"
    assert localised(merged.shipping, "en") == "We ship in 2 days."
    assert localised(merged.returns, "en") == "Free returns for 30 days."
    # A plain text is only used for the language it is written in.
    assert localised(merged.returns, "zh") is None
