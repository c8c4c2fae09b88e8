"""Reply sentences for social messages, in the customer's language.

Each intent has a fixed reply shape: an acknowledgement, the answer (from the shop's reply
settings or the product's facts) and the next step. Holding replies ("our team will get
back to you") exist for every supported language, so a customer is never answered in a
language they did not write in; full replies exist in English and Chinese.
"""

from __future__ import annotations

REPLIES: dict[str, dict[str, str]] = {
    "en": {
        "thanks_praise": "Thank you so much for the kind words!",
        "glad_product": "We're so glad you're enjoying the {product}.",
        "thanks_question": "Thanks for asking!",
        "answer_fact": "{fact}",
        "more_questions": "Anything else? Just {contact}.",
        "sorry_problem": "We're so sorry to hear about the problem with your order.",
        "sorry_delivery": "We're so sorry your order hasn't reached you as expected.",
        "make_it_right": "Please {contact} with your order number so we can make it right.",
        "abuse": "We're sorry you're unhappy. A member of our team will look into this.",
        "purchase": "Thanks for your interest! You can order it from our shop.",
        "holding": "Thanks for your message! A member of our team will get back to you "
                   "shortly.",
        "other": "Thanks for your message!",
        "contact_default": "send us a direct message",
    },
    "zh": {
        "thanks_praise": "非常感谢您的好评！",
        "glad_product": "很高兴您喜欢{product}。",
        "thanks_question": "感谢您的提问！",
        "answer_fact": "{fact}",
        "more_questions": "还有其他需要，请{contact}。",
        "sorry_problem": "非常抱歉您的订单出现了问题。",
        "sorry_delivery": "非常抱歉您的订单没有按时送达。",
        "make_it_right": "请{contact}并提供订单号，我们会尽快为您处理。",
        "abuse": "很抱歉让您不满意。我们的团队会跟进此事。",
        "purchase": "感谢您的关注！您可以在我们的店铺下单。",
        "holding": "感谢您的留言！我们的团队会尽快回复您。",
        "other": "感谢您的留言！",
        "contact_default": "私信我们",
    },
    "de": {"holding": "Danke für Ihre Nachricht! Unser Team meldet sich in Kürze bei Ihnen.",
           "abuse": "Es tut uns leid, dass Sie unzufrieden sind. Unser Team kümmert sich darum."},
    "fr": {"holding": "Merci pour votre message ! Notre équipe vous répondra très vite.",
           "abuse": "Nous sommes désolés que vous soyez mécontent. Notre équipe va s'en "
                    "occuper."},
    "es": {"holding": "¡Gracias por tu mensaje! Nuestro equipo te responderá en breve.",
           "abuse": "Sentimos que no estés satisfecho. Nuestro equipo se ocupará de esto."},
    "it": {"holding": "Grazie per il tuo messaggio! Il nostro team ti risponderà a breve.",
           "abuse": "Ci dispiace che tu non sia soddisfatto. Il nostro team se ne occuperà."},
    "pt": {"holding": "Obrigado pela sua mensagem! A nossa equipa vai responder em breve.",
           "abuse": "Lamentamos que não esteja satisfeito. A nossa equipa vai tratar disto."},
    "nl": {"holding": "Bedankt voor je bericht! Ons team neemt snel contact met je op.",
           "abuse": "Het spijt ons dat je ontevreden bent. Ons team gaat ermee aan de slag."},
}


def has_full_replies(language: str) -> bool:
    return "thanks_praise" in REPLIES.get(language, {})


def sentence(language: str, key: str, **values: str) -> str | None:
    """The reply sentence `key` in `language`, or None when there is none in it."""
    template = REPLIES.get(language, {}).get(key)
    return template.format(**values) if template is not None else None
