"""Webhook URLs that point inside the network are refused at submit time, before any connection."""

from __future__ import annotations

import socket

import pytest

from api import create_app
from shared.settings import Settings
from shared.ssrf import UnsafeUrl, check_address, check_url
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


# One address per special-purpose range; each must be refused on its own.
NON_GLOBAL = [
    ("100.64.0.1", "carrier-grade NAT"),          # 100.64.0.0/10, shared address space
    ("100.100.100.200", "metadata"),              # Alibaba's metadata, inside CGNAT
    ("0.1.2.3", "private"),                       # 0.0.0.0/8, "this network"
    ("198.18.0.1", "private"),                    # 198.18.0.0/15, benchmarking
    ("240.0.0.1", "private"),                     # 240.0.0.0/4, reserved
    ("255.255.255.255", "private"),               # limited broadcast
    ("192.0.0.8", "non-global"),                  # 192.0.0.0/24, IETF protocol assignments
    ("192.0.2.1", "private"),                     # TEST-NET-1
    ("224.0.0.1", "multicast"),
    ("::ffff:127.0.0.1", "private"),              # IPv4-mapped loopback
    ("::127.0.0.1", "reserved"),                  # IPv4-compatible (deprecated)
    ("2002:a00:1::", "carries a private address (10.0.0.1)"),        # 6to4 around 10.0.0.1
    ("2002:7f00:1::", "carries a loopback address (127.0.0.1)"),     # 6to4 around loopback
    ("64:ff9b::a00:1", "carries a private address (10.0.0.1)"),      # NAT64 around 10.0.0.1
    ("64:ff9b::a9fe:a9fe", "carries a cloud metadata address"),      # NAT64 around metadata
    ("64:ff9b:1::1", "reserved"),                 # local-use NAT64
    ("2001::1", "private"),                       # Teredo
    ("2001:db8::1", "private"),                   # documentation
    ("fc00::1", "private"),                       # unique local
    ("fec0::1", "non-global"),                    # site-local (deprecated)
    ("fe80::1%eth0", "link-local"),
    ("ff02::1", "multicast"),
    ("::", "unspecified"),
]


@pytest.mark.parametrize(("address", "problem"), NON_GLOBAL)
def test_every_non_global_range_is_refused(address, problem):
    with pytest.raises(UnsafeUrl, match=problem.replace("(", r"\(").replace(")", r"\)")):
        check_address("hooks.example", address, [])


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111",
                                     "2002:5db8:d822::1", "64:ff9b::5db8:d822"])
def test_public_addresses_pass_even_when_wrapped_in_ipv6(address):
    check_address("hooks.example", address, [])  # 6to4 and NAT64 around a public address


@pytest.mark.parametrize("address", [a for a, _ in NON_GLOBAL])
def test_the_allowlist_is_the_only_exception(address):
    network = address.split("%")[0] + ("/128" if ":" in address else "/32")
    check_address("hooks.example", address, [network])
    check_address("hooks.example", address, ["hooks.example"])


@pytest.mark.parametrize("url", ["http://2130706433/hook", "http://127.1/hook",
                                 "http://0x7f.1/hook", "http://017700000001/hook",
                                 "http://0/hook", "http://[::ffff:127.0.0.1]/hook",
                                 "http://100.64.0.1/hook", "http://[2002:a00:1::]/hook"])
def test_numeric_host_spellings_are_resolved_then_refused(api_only, url, monkeypatch):
    def no_connections(*args, **kwargs):
        raise AssertionError("a refused URL must not be connected to")

    monkeypatch.setattr(socket.socket, "connect", no_connections)
    response = api_only.client.post(
        "/v1/jobs", json={"type": "user_profile", "input": {"events": [EVENT]},
                          "webhook": {"url": url}}, headers=api_only.auth())
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"][0]["path"] == "webhook.url"


@pytest.mark.parametrize("url", ["http://" + "a" * 64 + ".example/hook",
                                 "http://no-such-host.invalid/hook"])
def test_hosts_that_cannot_resolve_are_422_not_500(api_only, url):
    response = api_only.client.post(
        "/v1/jobs", json={"type": "user_profile", "input": {"events": [EVENT]},
                          "webhook": {"url": url}}, headers=api_only.auth())
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["error"]["details"][0]["path"] == "webhook.url"


def test_check_url_refuses_what_it_cannot_call():
    """The guard's own answers, not the schema's (the API's URL type refuses many of these
    first, so only a direct call shows the guard holds on its own, as at send time)."""
    public = lambda host, port, type: [(socket.AF_INET, type, 6, "", ("93.184.216.34", port))]  # noqa: E731
    cases = [("ftp://shop.example/x", "scheme 'ftp' is not allowed"),
             ("//shop.example/x", "scheme 'none' is not allowed"),
             ("http:///x", "the URL has no host"),
             ("http://shop.example:99999/x", "the URL cannot be parsed")]
    for url, problem in cases:
        with pytest.raises(UnsafeUrl, match=problem):
            check_url(url, [], resolve=public)
    with pytest.raises(UnsafeUrl, match="does not resolve to any address"):
        check_url("http://shop.example/x", [], resolve=lambda host, port, type: [])

    def unresolvable(host, port, type):
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(UnsafeUrl, match="shop.example does not resolve: .*not known"):
        check_url("http://shop.example/x", [], resolve=unresolvable)
    with pytest.raises(UnsafeUrl, match="which is not an IP address"):
        check_address("shop.example", "not-an-ip", [])


@pytest.mark.parametrize(("url", "port"), [("http://shop.example/x", 80),
                                           ("https://shop.example/x", 443),
                                           ("https://shop.example:8443/x", 8443)])
def test_the_default_port_follows_the_scheme(url, port):
    asked = []

    def resolve(host, port, type):
        asked.append((host, port))
        return [(socket.AF_INET, type, 6, "", ("93.184.216.34", port))]

    assert check_url(url, [], resolve=resolve) == ["93.184.216.34"]
    assert asked == [("shop.example", port)]


def test_allowlist_networks_are_not_strict_and_names_match_any_case():
    check_address("hooks.example", "10.9.9.9", ["10.1.2.3/8"])  # host bits set: still the /8
    check_address("Hooks.Example", "10.9.9.9", ["hooks.example"])
    with pytest.raises(UnsafeUrl):
        check_address("other.example", "10.9.9.9", ["hooks.example", "192.168.0.0/16"])
