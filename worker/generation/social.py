"""`social_reply`: a reply that answers, in the customer's language, or a holding reply and a
person.

The intent decides the reply's shape (see `replies`); answers come from the shop's reply
settings (shipping, returns, contact: stored for the tenant or given in the job) or from the
product's facts; the model may write the acknowledgement, verified like all copy. A question
that cannot be answered that way, and every defect, damage, refund, threat or insult, is
escalated with a correct holding reply.
"""

from __future__ import annotations

from typing import Any

from shared.schemas.generation import LocalisedText, ReplySettings, SocialReplyInput
from shared.tenant_settings import load as load_tenant_settings
from worker.contract import JobContext, Outcome
from worker.generation import candidates
from worker.generation.candidates import PromptSpec
from worker.generation.checks import check_complete, check_no_pii
from worker.generation.compose import Piece, join, model_share, word_count
from worker.generation.facts import Fact, FactSheet
from worker.generation.inputs import parse_redacted
from worker.generation.intents import Intent, classify
from worker.generation.language import detect, same_language
from worker.generation.models import GenerationModels
from worker.generation.prompts import SOCIAL_ACK, option_values
from worker.generation.replies import has_full_replies, sentence
from worker.generation.templates import fact_sentences
from worker.generation.text import words
from worker.generation.writing import Writer

# A fact answers a question when the two are at least this similar (all-MiniLM-L6-v2):
# "How many sheets does it staple?" / "Staples up to 20 sheets" scored 0.6-0.7, unrelated
# fact/question pairs of the same product 0.1-0.35.
ANSWER_SIMILARITY = 0.45
ACK_SUPPORT = 0.25  # an acknowledgement need only stay on the message's subject
ESCALATING = {"abuse", "complaint"}


def reply_settings(job: ReplySettings | None, stored: dict | None) -> ReplySettings:
    """The job's reply settings over the tenant's stored ones, field by field."""
    merged = dict(stored or {})
    if job is not None:
        merged |= job.model_dump(exclude_none=True)
    return ReplySettings.model_validate(merged)


def localised(text: LocalisedText | None, language: str) -> str | None:
    """The text in `language`: from a language map, or a plain text written in it."""
    if text is None:
        return None
    if isinstance(text, dict):
        return next((v for k, v in text.items() if same_language(k, language)), None)
    written_in, _ = detect(text, fallback="en")
    return text if same_language(written_in, language) else None


def _answer_from_facts(writer: Writer, message: str, language: str) -> str | None:
    """The fact (as its template sentence) closest to the question, if close enough and
    written in the customer's language."""
    facts = writer.facts
    restated = [(s, f) for s, f in fact_sentences(facts, writer.variant)
                if same_language(detect(s, fallback="en")[0], language)]
    if not restated:
        return None
    vectors = writer.verifier.embedder.encode([message, *(s for s, _ in restated)])
    scores = vectors[1:] @ vectors[0]
    best = int(scores.argmax())
    return restated[best][0] if float(scores[best]) >= ANSWER_SIMILARITY else None


def plan_reply(writer: Writer, request: SocialReplyInput, intent: Intent, language: str,
               settings: ReplySettings) -> tuple[list[tuple[str, str]], bool, list[str]]:
    """(unit key, sentence) pairs, whether the message was answered, extra escalation
    reasons."""
    contact = localised(settings.contact, language) or sentence(language, "contact_default")
    product = writer.facts.name if request.product else None
    plan: list[tuple[str, str | None]] = []
    reasons: list[str] = []
    answered = True
    if intent.intent == "abuse":
        plan = [("abuse", sentence(language, "abuse"))]
    elif intent.intent == "complaint":
        opener = "sorry_delivery" if intent.topic == "delivery_problem" else "sorry_problem"
        plan = [("apology", sentence(language, opener)),
                ("next_step", sentence(language, "make_it_right", contact=contact))]
    elif intent.intent == "praise":
        plan = [("ack", sentence(language, "thanks_praise"))]
        if product:
            plan.append(("product", sentence(language, "glad_product", product=product)))
    elif intent.intent in {"question", "purchase_intent"}:
        answer = None
        if intent.topic in {"shipping", "returns"}:
            answer = localised(getattr(settings, intent.topic), language)
        elif request.product is not None:
            answer = _answer_from_facts(writer, request.message, language)
        if intent.intent == "purchase_intent":
            plan = [("ack", sentence(language, "purchase"))]
            if answer:
                plan.append(("answer", answer))
        elif answer:
            plan = [("ack", sentence(language, "thanks_question")), ("answer", answer),
                    ("next_step", sentence(language, "more_questions", contact=contact))]
        else:
            answered = False
            reasons.append(f"{intent.topic or 'product'} question the facts and reply "
                           "settings cannot answer")
            plan = [("holding", sentence(language, "holding"))]
    else:
        plan = [("ack", sentence(language, "other"))]
    return [(k, s) for k, s in plan if s], answered, reasons


def _holding(language: str, intent: Intent) -> list[tuple[str, str]]:
    key = "abuse" if intent.intent == "abuse" else "holding"
    text = sentence(language, key)
    return [(key, text)] if text else []


def _model_acknowledgement(writer: Writer, request: SocialReplyInput, language: str
                           ) -> Piece | None:
    values = option_values(request.options.tone, None, language) | {"message": request.message}
    generations = writer.generate([PromptSpec("ack", SOCIAL_ACK, values, max_words=25)],
                                  allow_greeting=True, min_support=ACK_SUPPORT)
    kept = [v for g in generations for v in g.verdicts if v.kept]
    best = max(kept, key=lambda v: v.support, default=None)
    return Piece(best.text, "model", "ack", best.support) if best else None


def reply_to_social(job_input: dict[str, Any], models: GenerationModels,
                    context: JobContext) -> Outcome:
    request, redactions = parse_redacted(SocialReplyInput, job_input)
    language = detect(request.message, fallback=request.options.language)[0]
    intent = classify(request.message, language, models.intents)
    settings = reply_settings(request.reply_settings, _stored_replies(context))
    extra = [Fact(request.message, "message")] + [
        Fact(t, "reply_settings") for t in _setting_texts(settings)]
    facts = (FactSheet.from_product(request.product, extra) if request.product else
             FactSheet(name="", title="", brand=None, product_type=None, category_leaf=None,
                       facts=extra, identity=""))
    options = request.options.model_copy(update={"language": language})
    writer = Writer(models, context, options, facts)
    base = {"intent": intent.intent, "topic": intent.topic, "language": language,
            "sentiment": intent.sentiment, "scores": intent.scores}
    if intent.intent == "spam":
        # Answering spam only feeds it; the shop hides or reports it instead.
        return _outcome(writer, [], base | {"escalate": False, "escalation_reasons": [],
                                            "answered": False, "action": "hide"}, redactions)
    reasons = list(intent.reasons)
    if has_full_replies(language):
        plan, answered, more = plan_reply(writer, request, intent, language, settings)
        reasons += more
    else:
        plan, answered = _holding(language, intent), False
        reasons.append(f"no reply templates in {language}: a person who writes it should "
                       "answer")
    pieces = [Piece(text, "template", key) for key, text in plan]
    if intent.intent not in ESCALATING and pieces and pieces[0].unit == "ack":
        acknowledgement = _model_acknowledgement(writer, request, language)
        if acknowledgement is not None:
            pieces[0] = acknowledgement
    pieces = _within(pieces, request.options.max_words)
    escalate = bool(reasons) or intent.intent in ESCALATING
    return _outcome(writer, pieces, base | {"escalate": escalate,
                                            "escalation_reasons": reasons,
                                            "answered": answered}, redactions)


def _stored_replies(context: JobContext) -> dict | None:
    if context.tenant_id is None:
        return None
    with context.db.session() as session:
        stored = load_tenant_settings(session, context.tenant_id)
        return stored.replies if stored else None


def _setting_texts(settings: ReplySettings) -> list[str]:
    texts = []
    for value in (settings.shipping, settings.returns, settings.contact):
        texts += list(value.values()) if isinstance(value, dict) else [value] if value else []
    return texts


def _within(pieces: list[Piece], max_words: int) -> list[Piece]:
    kept, total = [], 0
    for piece in pieces:
        count = len(words(piece.text))
        if total + count <= max_words or not kept:
            kept.append(piece)
            total += count
    return kept


def _outcome(writer: Writer, pieces: list[Piece], fields: dict[str, Any],
             redactions: dict[str, int]) -> Outcome:
    source = writer.models.require_generation().source
    result = {"reply": join(pieces), **fields, "word_count": word_count(pieces),
              "sentences": [p.as_dict() for p in pieces], "model_share": model_share(pieces),
              "checks": {c.name: c.as_dict() for c in
                         (check_complete(pieces), check_no_pii(join(pieces)))},
              "facts": writer.facts.as_dict(),
              "prompt": {"template_ids": [SOCIAL_ACK.id]} if writer.generations else {},
              "generations": writer.audit(),
              "timings": candidates.timings(writer.generations), "redactions": redactions}
    return Outcome(result=result, model_name=source.name, model_revision=source.revision)
