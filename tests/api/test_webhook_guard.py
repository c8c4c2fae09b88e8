"""Webhook URLs that point inside the network are refused at submit time, before any connection."""

from __future__ import annotations

import socket

import pytest

from api import create_app
from shared.settings import Settings
from shared.ssrf import UnsafeUrl, check_url
from tests.support.stack import stack_env

EVENT = {"type": "view", "timestamp": "2011-05-01T10:00:00Z", "title": "RED MUG"}


@pytest.mark.parametrize(("url", "problem"), [
    ("http://10.0.0.1/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "metadata"),
    ("http://localhost/hook", "loopback"),
    ("http://[::1]:8080/hook", "loopback"),
    ("http://224.0.0.1/hook", "multicast"),
    ("file:///etc/passwd", "URL scheme"),
    ("gopher://example.com/", "URL scheme"),
])
def test_unsafe_webhook_urls_are_422_at_webhook_url(api_only, url, problem, monkeypatch):
    def no_connections(*args, **kwargs):
        raise AssertionError("a refused URL must not be connected to")

    monkeypatch.setattr(socket.socket, "connect", no_connections)
    response = api_only.client.post(
        "/v1/jobs", json={"type": "user_profile", "input": {"events": [EVENT]},
                          "webhook": {"url": url}}, headers=api_only.auth())
    assert response.status_code == 422, response.json
    details = response.json["error"]["details"]
    assert details[0]["path"] == "webhook.url"
    assert problem in details[0]["problem"]


def test_allowlisted_loopback_is_accepted(api_only):
    settings = Settings.from_env(dict(api_only.env, VITRINE_WEBHOOK_ALLOWLIST="127.0.0.1/32"))
    client = create_app(settings).test_client()
    response = client.post("/v1/jobs", json={
        "type": "user_profile", "input": {"events": [EVENT]},
        "webhook": {"url": "http://127.0.0.1:9/hook", "events": ["completed", "started"]}},
        headers=api_only.auth())
    assert response.status_code == 202, response.json
    assert response.json["webhook"]["events"] == ["completed", "started"]


def test_every_resolved_address_must_be_public():
    def resolves_to(*addresses):
        return lambda host, port, type: [(socket.AF_INET, type, 6, "", (a, port))
                                         for a in addresses]

    assert check_url("https://shop.example/hook", [], resolve=resolves_to("93.184.216.34"))
    with pytest.raises(UnsafeUrl, match="private"):
        check_url("https://rebind.example/hook", [],
                  resolve=resolves_to("93.184.216.34", "192.168.1.10"))
    assert check_url("http://hooks.internal/x", ["hooks.internal"],
                     resolve=resolves_to("10.1.2.3"))


def test_settings_parse_the_allowlist():
    settings = Settings.from_env(stack_env("sqlite://", "redis://127.0.0.1:1/0",
                                           VITRINE_WEBHOOK_ALLOWLIST=" 127.0.0.1/32, hooks.local "))
    assert settings.webhook_allowlist == ["127.0.0.1/32", "hooks.local"]
