"""Checks every request gets before any route runs: no API key in the URL, and the character
rule of shared.schemas.text for the strings that do not come in the JSON body (path, query,
Idempotency-Key). JSON bodies are checked where they are parsed (api.body).
"""

from __future__ import annotations

import re

from flask import Flask, request

from api.errors import ApiError
from shared.schemas.text import character_problem
from shared.tenancy import KEY_PREFIX

# Names clients reach for when a key "has to" go in a URL (webhook consoles, browsers).
KEY_PARAMETERS = {"api_key", "apikey", "api-key", "key", "access_token", "token", "auth",
                  "authorization", "bearer"}
# A Vitrine key anywhere in a query value (`?cursor=vt_...` is still a leaked key).
KEY_PATTERN = re.compile(re.escape(KEY_PREFIX) + r"[A-Za-z0-9_-]{20,}")
CHECKED_HEADERS = ("Idempotency-Key",)


def _key_in_query() -> str | None:
    for name, value in request.args.items(multi=True):
        if name.lower() in KEY_PARAMETERS or KEY_PATTERN.search(value):
            return name
    return None


def check_request() -> None:
    """before_request for the whole app; /healthz, /readyz and /openapi.json take no input."""
    if not request.path.startswith("/v1/"):
        return
    name = _key_in_query()
    if name is not None:
        raise ApiError(
            400, "api_key_in_query",
            "API keys are not accepted in the query string (URLs end up in logs, proxies and "
            "browser history): send the key in the `Authorization: Bearer <key>` header",
            [{"path": f"query:{name}", "problem": "use the Authorization header for the key"}])
    problems = []
    for param, value in (request.view_args or {}).items():
        if isinstance(value, str) and (problem := character_problem(value)):
            problems.append({"path": f"path:{param}", "problem": problem})
    for param, value in request.args.items(multi=True):
        for text in (param, value):
            if problem := character_problem(text):
                problems.append({"path": f"query:{param[:40]}", "problem": problem})
    for header in CHECKED_HEADERS:
        if (value := request.headers.get(header)) and (problem := character_problem(value)):
            problems.append({"path": f"header:{header}", "problem": problem})
    if problems:
        raise ApiError(422, "validation_error", "request contains characters that are not "
                       "accepted", problems[:20])


def init_app(app: Flask) -> None:
    app.before_request(check_request)
