"""Keys: listed without being shown, revoked by a command, refused everywhere within a second,
refused in query strings and never written to a log. Real gunicorn processes."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests

from tests.support.processes import ROOT
from tests.support.server import ApiServer


def _flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "api", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def _status(server: ApiServer, key: str) -> int:
    return requests.get(f"{server.url}/v1/jobs?limit=1", timeout=10,
                        headers={"Authorization": f"Bearer {key}"}).status_code


def test_list_shows_prefixes_and_revoke_takes_a_prefix_an_id_or_the_key(api_on_both):
    keys = [_flask(api_on_both.env, "create-api-key", "--tenant", "listed").stdout.strip()
            for _ in range(3)]
    listing = _flask(api_on_both.env, "list-api-keys", "--tenant", "listed")
    assert listing.returncode == 0, listing.stderr
    assert all(key[:10] in listing.stdout and key not in listing.stdout for key in keys)
    key_id = next(line.split()[0] for line in listing.stdout.splitlines()
                  if keys[1][:10] in line)
    for given in (keys[0][:10], key_id, keys[2]):
        revoked = _flask(api_on_both.env, "revoke-api-key", given)
        assert revoked.returncode == 0, revoked.stderr
        assert "revoked" in revoked.stdout
    after = _flask(api_on_both.env, "list-api-keys", "--tenant", "listed").stdout.splitlines()[1:]
    assert len(after) == 3 and all(line.split()[-1] != "-" for line in after)
    missing = _flask(api_on_both.env, "revoke-api-key", "vt_nothing")
    assert missing.returncode != 0 and "no key matches" in missing.stderr


@pytest.fixture(scope="module")
def two_servers(api_on_both):
    """Two API servers (two gunicorn masters, two gevent workers each) on one database."""
    servers = [ApiServer(api_on_both.env, name=f"api-{n}") for n in (1, 2)]
    yield servers
    for server in servers:
        server.stop()


def test_a_revoked_key_is_refused_by_every_api_process_within_a_second(api_on_both, two_servers):
    key = _flask(api_on_both.env, "create-api-key", "--tenant", "revoked-soon").stdout.strip()
    for server in two_servers:  # warm every worker process's key cache
        assert {_status(server, key) for _ in range(40)} == {200}
    revoked = _flask(api_on_both.env, "revoke-api-key", key[:10])
    assert revoked.returncode == 0, revoked.stderr
    time.sleep(1.0)
    statuses = [_status(server, key) for server in two_servers for _ in range(40)]
    assert set(statuses) == {401}


@pytest.mark.parametrize("query", ["api_key={key}", "limit=2&token={key}", "cursor={key}",
                                   "Authorization=Bearer%20{key}", "key={key}"])
def test_a_key_in_the_query_string_is_400_and_never_logged(api_on_both, two_servers, query):
    server = two_servers[0]
    key = api_on_both.key("leaky")
    response = requests.get(f"{server.url}/v1/jobs?{query.format(key=key)}", timeout=10)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "api_key_in_query"
    assert "Authorization: Bearer" in error["message"]
    posted = requests.post(f"{server.url}/v1/jobs?{query.format(key=key)}", json={}, timeout=10,
                           headers={"Authorization": f"Bearer {key}"})
    assert posted.status_code == 400
    time.sleep(0.2)  # the access log line is written after the response
    assert "/v1/jobs?" in server.output  # the requests were logged ...
    assert key not in server.output and key[3:] not in server.output  # ... without the key
