"""Standard Webhooks signatures: what the sender writes, the client helper accepts."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from shared.webhooks.signing import sign  # the server signs
from vitrine_client import WebhookVerificationError, verify  # receivers verify

OLD = "whsec_" + base64.b64encode(b"old-secret-32-bytes-long-0000000").decode()
NEW = "whsec_" + base64.b64encode(b"new-secret-32-bytes-long-1111111").decode()
BODY = json.dumps({"event": "completed", "id": "job-1", "status": "succeeded"}).encode()


def test_signed_delivery_verifies_and_returns_the_body():
    headers = sign([NEW], "msg_1", BODY, timestamp=1_700_000_000)
    assert headers["webhook-signature"].startswith("v1,")
    assert verify(NEW, headers, BODY, now=1_700_000_010) == json.loads(BODY)


def test_during_rotation_both_signatures_are_sent_and_either_secret_verifies():
    headers = sign([OLD, NEW], "msg_2", BODY, timestamp=1_700_000_000)
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (OLD, NEW):
        verify(secret, headers, BODY, now=1_700_000_000)


@pytest.mark.parametrize("tamper", ["body", "id", "timestamp", "secret", "stale"])
def test_anything_changed_fails_verification(tamper):
    headers = sign([NEW], "msg_3", BODY, timestamp=1_700_000_000)
    body, secret, now = BODY, NEW, 1_700_000_000
    if tamper == "body":
        body = BODY.replace(b"succeeded", b"failed")
    elif tamper == "id":
        headers["webhook-id"] = "msg_4"
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = "1700000001"
    elif tamper == "secret":
        secret = OLD
    else:
        now = 1_700_000_000 + 301
    with pytest.raises(WebhookVerificationError):
        verify(secret, headers, body, now=now)


def test_known_vector_matches_an_independent_hmac():
    import hashlib
    import hmac

    headers = sign([NEW], "msg_5", b"{}", timestamp=1)
    key = base64.b64decode(NEW.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, b"msg_5.1.{}", hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"


def _readme_openssl_example() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    after = readme.split("<!-- webhook-openssl-example -->", 1)[1]
    return after.split("```bash\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize(("secrets", "check_with", "genuine"), [
    ([NEW], NEW, True), ([OLD, NEW], OLD, True), ([OLD], NEW, False)])
def test_the_readme_openssl_example_verifies_what_we_sign(tmp_path, secrets, check_with,
                                                          genuine):
    headers = sign(secrets, "msg_9", BODY + b"\n", timestamp=1_700_000_000)
    (tmp_path / "body.json").write_bytes(BODY + b"\n")  # a trailing newline is signed too
    env = dict(os.environ, SECRET=check_with, MSG_ID=headers["webhook-id"],
               TS=headers["webhook-timestamp"], SIG=headers["webhook-signature"])
    run = subprocess.run(["bash", "-c", _readme_openssl_example()], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert (run.returncode == 0, run.stdout.strip()) == (
        (True, "genuine") if genuine else (False, "forged")), run.stderr
