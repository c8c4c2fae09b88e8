"""What a customer's message is: intent, topic, sentiment and whether a person must see it.

Rules come first, in English and Chinese, because they are exact about what matters most:
an insult or threat, a broken or damaged item, a refund. The embedding model then decides
what the rules leave open in English (zero-shot against labelled example messages).
Escalated always: defects, damage, refunds, safety, abuse and threats (insults included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from worker.models.embeddings import Embedder

RULES: dict[str, re.Pattern] = {
    "threat": re.compile(
        r"\b(?:kill|hurt|sue|lawyer|attorney|police|court|report you|burn (?:it|you|your)|"
        r"find you|destroy you|watch your back|legal action)\b|杀了你|弄死|起诉|报警|律师|"
        r"法院|走着瞧", re.I),
    "insult": re.compile(
        r"\b(?:idiots?|stupid|dumb|morons?|scam(?:mers?)?|frauds?|thie(?:f|ves)|liars?|"
        r"garbage|trash|crap|shit\w*|fuck\w*|bullshit|useless|pathetic|incompetent|suck(?:s)?|"
        r"clowns?|losers?|hate you|go to hell|screw you|rip ?off)\b|"
        r"垃圾|骗子|傻[逼瓜子]?|滚|去死|废物|混蛋|坑人|骗人|智障|脑残|无耻", re.I),
    "damage": re.compile(
        r"\b(?:broken|broke|damaged|cracked|shattered|smashed|dented|torn|crushed|leak(?:ing|ed)?|"
        r"arrived (?:in pieces|damaged|broken)|missing (?:parts?|pieces?))\b|"
        r"破损|损坏|碎了|摔坏|压坏|漏了|缺少|少了", re.I),
    "defect": re.compile(
        r"\b(?:defective|faulty|doesn'?t work|does not work|not working|stopped working|won'?t "
        r"(?:turn on|work|charge)|malfunction\w*|dead on arrival|"
        r"fell apart|poor quality|overheat\w*|smok\w+|caught fire|burn(?:ed|t)|shock(?:ed)?)\b|"
        r"坏了|坏的|不能用|用不了|质量问题|有问题|故障|不工作|发热|冒烟", re.I),
    "refund": re.compile(r"\b(?:refund\w*|money back|charge ?back|reimburs\w+)\b|退款|退钱",
                         re.I),
    "delivery_problem": re.compile(
        r"\b(?:never (?:arrived|came|received)|not (?:arrived|received)|hasn'?t arrived|"
        r"still waiting|lost (?:in the mail|package|parcel)|wrong (?:item|product|size|colou?r)"
        r")\b|没收到|还没到|发错|寄错", re.I),
    "shipping": re.compile(
        r"\b(?:ship(?:s|ping|ped)?|deliver(?:y|ies|ed)?|arrive|tracking|dispatch\w*|postage|"
        r"courier|how long (?:does|will|until))\b|发货|快递|物流|运费|邮费|送达|到货|多久到|配送",
        re.I),
    "returns": re.compile(r"\b(?:return(?:s|ed|ing)?|exchange|send (?:it )?back)\b|退货|换货|退换",
                          re.I),
    "sizing": re.compile(
        r"\b(?:size[sd]?|sizing|fit(?:s|ting)?|dimensions?|measure(?:ments?)?|how (?:big|large|"
        r"small|long|wide|tall|heavy)|weigh(?:t|s)?)\b|尺寸|尺码|大小|多大|多长|多重", re.I),
    "use": re.compile(
        r"\b(?:how (?:do|to|can) (?:i|you|we)|compatible|work(?:s)? with|install\w*|set ?up|"
        r"instructions?|manual|refill\w*|recharge\w*|wash(?:able)?|clean)\b|"
        r"怎么用|如何使用|使用方法|兼容|安装|说明书", re.I),
    "praise": re.compile(
        r"\b(?:love[sd]?|great|amazing|awesome|excellent|fantastic|perfect|brilliant|wonderful|"
        r"thanks?|thank you|happy with|best .{0,20}ever|recommend)\b|喜欢|很好|不错|谢谢|满意|好用|"
        r"太棒|推荐|赞", re.I),
    "purchase": re.compile(r"\b(?:where (?:can|do) i (?:buy|order|get)|how (?:do|can) i "
                           r"(?:buy|order)|in stock|take my money|want to (?:buy|order))\b|"
                           r"怎么买|哪里买|有货吗|想买|下单", re.I),
    "spam": re.compile(r"\b(?:click here|free (?:iphone|followers|gift card)|earn \$?\d+|"
                       r"crypto|bitcoin|forex|giveaway|dm me|follow (?:me|my page)|"
                       r"promo code)\b|https?://|加微信|免费领取|刷单", re.I),
    "question": re.compile(r"\?|？|^\s*(?:what|when|where|which|who|why|how|does|do|is|are|can|"
                           r"could|will|would|should|have|has)\b|吗|呢|怎么|多少|什么|是否|"
                           r"有没有|能不能|可以吗", re.I),
}
ZERO_SHOT_EXAMPLES: dict[str, list[str]] = {
    "question": ["Does this come in other colours?", "What size should I order?",
                 "When will my order ship?", "Is this compatible with my printer?"],
    "complaint": ["My order arrived broken and nobody answers my emails.",
                  "The package never arrived and I was still charged.",
                  "This is really disappointing quality."],
    "praise": ["Love this notebook, best purchase this year!",
               "Amazing quality, thank you so much!", "Fast shipping and great service."],
    "purchase_intent": ["I want to buy this, where can I order it?",
                        "Take my money! Is it in stock?"],
    "spam": ["Click here to win a free iPhone!!!", "Earn $5000 a week from home, DM me",
             "Follow my page for free followers"],
    "other": ["Hello", "Happy Friday everyone", "Nice weather today"],
}
SENTIMENT_EXAMPLES: dict[str, list[str]] = {
    "positive": ["I love it, thank you!", "Great product and quick delivery."],
    "neutral": ["When does the sale end?", "Is this available in blue?"],
    "negative": ["Terrible, it broke after a day.", "I am very disappointed and angry."],
}


@dataclass
class Intent:
    intent: str  # question, complaint, praise, abuse, purchase_intent, spam, other
    topic: str | None  # questions: shipping, returns, sizing ...; complaints: damage ...
    sentiment: str
    escalate: bool
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


class ZeroShotClassifier:
    """Labels by the mean similarity of the two nearest examples of each label."""

    def __init__(self, embedder: Embedder, examples: dict[str, list[str]]) -> None:
        self.embedder = embedder
        self.vectors = {label: embedder.encode(texts) for label, texts in examples.items()}

    def classify(self, text: str) -> tuple[str, dict[str, float]]:
        query = self.embedder.encode([text])[0]
        scores = {label: round(float(np.sort(v @ query)[-2:].mean()), 4)
                  for label, v in self.vectors.items()}
        return max(scores, key=scores.get), scores


class IntentClassifier:
    """The zero-shot intent and sentiment classifiers over one embedding model; their
    examples are embedded once, when it is built (a worker builds it at start-up)."""

    def __init__(self, embedder: Embedder) -> None:
        self.intent = ZeroShotClassifier(embedder, ZERO_SHOT_EXAMPLES)
        self.sentiment = ZeroShotClassifier(embedder, SENTIMENT_EXAMPLES)


def _hits(message: str) -> set[str]:
    return {name for name, pattern in RULES.items() if pattern.search(message)}


def classify(message: str, language: str, classifier: IntentClassifier) -> Intent:
    """The intent of `message`; escalation follows from what the rules found."""
    hits = _hits(message)
    scores: dict[str, float] = {}
    reasons = [f"{h} mentioned" for h in ("threat", "insult", "damage", "defect", "refund")
               if h in hits]
    if hits & {"threat", "insult"}:
        intent, topic = "abuse", "threat" if "threat" in hits else "insult"
    elif hits & {"damage", "defect", "refund", "delivery_problem"}:
        intent = "complaint"
        topic = next(t for t in ("damage", "defect", "refund", "delivery_problem") if t in hits)
    elif "spam" in hits:
        intent, topic = "spam", None
    elif "question" in hits or hits & {"shipping", "returns", "sizing", "use"}:
        intent = "purchase_intent" if "purchase" in hits else "question"
        topic = next((t for t in ("shipping", "returns", "sizing", "use") if t in hits),
                     "product")
    elif "praise" in hits:
        intent, topic = "praise", None
    elif "purchase" in hits:
        intent, topic = "purchase_intent", None
    elif language == "en":
        intent, scores = classifier.intent.classify(message)
        topic = "product" if intent == "question" else None
        if intent == "complaint":
            topic = "service"
    else:
        intent, topic = "other", None
    if intent == "complaint" and topic == "delivery_problem":
        reasons.append("delivery problem")
    if intent == "complaint" and not reasons:
        reasons.append("complaint")
    sentiment = _sentiment(intent, hits, message, language, classifier, scores)
    return Intent(intent, topic, sentiment, bool(reasons), reasons, scores)


def _sentiment(intent: str, hits: set[str], message: str, language: str,
               classifier: IntentClassifier, scores: dict[str, float]) -> str:
    if intent in {"abuse", "complaint"}:
        return "negative"
    if intent == "praise":
        return "positive"
    if language != "en":
        return "neutral"
    label, sentiment_scores = classifier.sentiment.classify(message)
    scores.update({f"sentiment_{k}": v for k, v in sentiment_scores.items()})
    return label
