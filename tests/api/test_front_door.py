"""Hand-made hostile inputs, each a clear 4xx naming what and where, on SQLite and PostgreSQL.

Every case here once answered 500 (or was stored and echoed): NUL bytes, bidi overrides,
unpaired surrogates, 10,000-deep nesting, huge integers, Infinity/NaN, dates whose UTC form
overflows, purchases dated year 1, future-only histories, NULs in paths, queries and headers.
"""

from __future__ import annotations

import json

import pytest

from api import create_app
from api.body import MAX_JSON_DEPTH
from shared.settings import Settings
from tests.support.events import purchase_events, uci_invoice_lines
from tests.support.stack import build_stack

EVENT = {"type": "purchase", "timestamp": "2011-05-01T10:00:00Z", "title": "MUG", "price": 2.5}
PRODUCT = {"title": "Big-button corded phone", "brand": "Vitrine"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def front(request, redis_server, database_factory):
    """The API app on one backend, no workers: these requests must never get that far."""
    built = build_stack(request.param, database_factory(request.param),
                        f"redis://127.0.0.1:{redis_server.port}/12", with_worker=False)
    yield built
    built.stop()


def _post(front, body, path="/v1/jobs", headers=None, method="post"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return getattr(front.client, method)(path, data=raw, headers={
        **front.auth(), "Content-Type": "application/json", **(headers or {})})


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    error = response.json["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


def _profile(**event_changes) -> dict:
    return {"type": "user_profile", "input": {"events": [dict(EVENT, **event_changes)]}}


@pytest.mark.parametrize(("text", "codepoint"), [
    ("MUG\x00", "U+0000"), ("\x07bell", "U+0007"), ("del\x7f", "U+007F"), ("c1\x85", "U+0085"),
    ("gnp.exe\u202e", "U+202E"), ("\u2066isolate", "U+2066"),
])
def test_control_and_bidi_characters_are_refused_with_the_path(front, text, codepoint):
    error = _error(_post(front, _profile(title=text)), 422, "validation_error")
    assert error["details"][0]["path"] == "input.events[0].title"
    assert codepoint in error["details"][0]["problem"]


def test_unpaired_surrogate_escape_is_refused(front):
    raw = json.dumps(_profile(title="MUG")).replace('"MUG"', '"MUG\\ud800"').encode()
    error = _error(_post(front, raw), 422, "validation_error")
    assert error["details"][0]["path"] == "input.events[0].title"
    assert "U+D800" in error["details"][0]["problem"]


def test_tabs_newlines_right_to_left_marks_and_emoji_are_text(front):
    response = _post(front, _profile(title="MUG\tred\r\nmug \u200f\u05e1\u05e4\u05dc \U0001f600"))
    assert response.status_code == 202, response.json
    assert response.json["input"]["events"][0]["title"].endswith("\U0001f600")


def test_the_rule_covers_every_job_type_and_route(front):
    description = {"type": "product_description", "input": {"product": dict(
        PRODUCT, attributes={"colour\x00": "red"})}}
    error = _error(_post(front, description), 422, "validation_error")
    assert error["details"][0]["path"] == "input.product.attributes"
    items = {"items": [{"id": "1\x00", "title": "phone"}]}
    error = _error(_post(front, items, "/v1/catalogs/office/items", method="put"), 422,
                   "validation_error")
    assert error["details"][0]["path"] == "items[0].id"
    webhook = dict(_profile(), webhook={"url": "https://shop.example/\u202ehook"})
    assert _error(_post(front, webhook), 422, "validation_error")["details"][0]["path"] == \
        "webhook.url"


@pytest.mark.parametrize(("method", "path", "headers", "where"), [
    ("delete", "/v1/catalogs/office/items/a%00b", {}, "path:item_id"),
    ("get", "/v1/catalogs/of%00fice", {}, "path:catalog_id"),
    ("get", "/v1/jobs?cursor=%00", {}, "query:cursor"),
    ("delete", "/v1/webhooks/disabled-urls?url=http://x/%E2%80%AE", {}, "query:url"),
    ("post", "/v1/jobs", {"Idempotency-Key": "order\x0042"}, "header:Idempotency-Key"),
])
def test_paths_queries_and_headers_follow_the_same_rule(front, method, path, headers, where):
    response = getattr(front.client, method)(path, headers={**front.auth(), **headers},
                                             json=_profile() if method == "post" else None)
    assert _error(response, 422, "validation_error")["details"][0]["path"] == where


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_10000_deep_nesting_is_refused_before_parsing(front, opening):
    closing = "]" if opening == "[" else "}"
    raw = (opening * 10_000 + "1" + closing * 10_000).encode()
    error = _error(_post(front, raw), 400, "too_deeply_nested")
    assert str(MAX_JSON_DEPTH) in error["message"]


def test_nesting_up_to_the_limit_is_parsed_and_validated(front):
    deep: object = 1
    for _ in range(MAX_JSON_DEPTH - 4):  # inside { "input": { "events": [ { ... } ] } }
        deep = [deep]
    body = {"type": "user_profile", "input": {"events": [dict(EVENT, extra=deep)]}}
    error = _error(_post(front, body), 422, "validation_error")
    assert error["details"][0]["path"] == "input.events[0].extra"
    brackets_in_strings = _profile(title="[" * 400)
    assert _post(front, brackets_in_strings).status_code == 202


@pytest.mark.parametrize(("literal", "path"), [
    ("1" + "0" * 30, "priority"), ("9" * 5000, "priority"), ("-9223372036854775809", "priority"),
    ("1e400", "input.events[0].price"), ("-1e400", "input.events[0].price"),
    ("NaN", "input.events[0].price"), ("Infinity", "input.events[0].price"),
    ("-Infinity", "input.events[0].price"),
])
def test_numbers_out_of_range_are_422_with_the_path(front, literal, path):
    body = json.dumps(dict(_profile(), priority=5)).replace('"price": 2.5', '"price": 1.0')
    if path == "priority":
        raw = body.replace('"priority": 5', f'"priority": {literal}')
    else:
        raw = body.replace('"price": 1.0', f'"price": {literal}')
    error = _error(_post(front, raw.encode()), 422, "validation_error")
    assert error["details"][0]["path"] == path, error
    assert literal[:20] in error["message"]


@pytest.mark.parametrize("value", ["Infinity", "nan", "inf", "-inf"])
def test_non_finite_numbers_spelt_as_strings_are_refused(front, value):
    error = _error(_post(front, _profile(price=value)), 422, "validation_error")
    assert error["details"][0]["path"] == "input.events[0].price"
    items = {"items": [{"id": "1", "title": "phone", "popularity": value}]}
    error = _error(_post(front, items, "/v1/catalogs/office/items", method="put"), 422,
                   "validation_error")
    assert error["details"][0]["path"] == "items[0].popularity"


@pytest.mark.parametrize("timestamp", [
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    "1969-12-31T23:59:59Z", "2100-01-01T00:00:00Z", 10**12 * 1000,
])
def test_timestamps_outside_1970_to_2100_are_422(front, timestamp):
    error = _error(_post(front, _profile(timestamp=timestamp)), 422, "validation_error")
    assert error["details"][0]["path"] == "input.events[0].timestamp", error
    as_of = {"type": "user_profile", "input": {"events": [EVENT], "as_of": timestamp}}
    assert _error(_post(front, as_of), 422, "validation_error")["details"][0]["path"] == \
        "input.as_of"
    history = {"type": "recommendation", "input": {
        "candidates": [{"id": "1", "title": "phone"}],
        "history": [{"item_id": "1", "timestamp": timestamp}]}}
    assert _error(_post(front, history), 422, "validation_error")["details"][0]["path"] == \
        "input.history[0].timestamp"


@pytest.mark.parametrize("as_of", [None, "2011-01-01T00:00:00Z"])
def test_future_only_events_are_422_with_or_without_as_of(front, as_of):
    future = dict(EVENT, timestamp="2099-01-01T00:00:00Z")
    job_input = {"events": [future], **({"as_of": as_of} if as_of else {})}
    error = _error(_post(front, {"type": "user_profile", "input": job_input}), 422,
                   "validation_error")
    assert error["details"][0]["path"] == "input"
    assert "every event is after" in error["details"][0]["problem"]


def test_a_body_that_is_not_utf8_is_400(front):
    raw = json.dumps(_profile(title="MUG")).encode().replace(b"MUG", b"M\xffG")
    _error(_post(front, raw), 400, "malformed_json")


def _uci_body(count: int) -> bytes:
    lines = [line for rows in uci_invoice_lines().values() for line in rows]
    events = (purchase_events(lines) * (count // len(lines) + 1))[:count]
    return json.dumps({"type": "user_profile", "input": {"events": events}}).encode()


def test_the_readme_body_limits_hold(front):
    """README: 6,000 UCI-sized events fit the default 1 MiB; at 4 MiB all 20,000 fit."""
    assert _post(front, _uci_body(6_000)).status_code == 202
    _error(_post(front, _uci_body(20_000)), 413, "payload_too_large")
    roomy = create_app(Settings.from_env(dict(front.env, VITRINE_MAX_BODY_BYTES="4194304")))
    headers = {**front.auth(), "Content-Type": "application/json"}
    accepted = roomy.test_client().post("/v1/jobs", data=_uci_body(20_000), headers=headers)
    assert accepted.status_code == 202, accepted.get_data(as_text=True)[:500]
    refused = roomy.test_client().post("/v1/jobs", data=_uci_body(20_001), headers=headers)
    _error(refused, 422, "validation_error")
    assert refused.json["error"]["details"][0]["path"] == "input.events"
