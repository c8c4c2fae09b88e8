"""Per-tenant limits: 429 with Retry-After and RateLimit headers, the active-jobs quota, the
priority ceiling, all set per tenant through the CLI; queue position on a held job."""

from __future__ import annotations

import time

import pytest

from tests.support.stack import build_stack

EVENT = {"type": "purchase", "item_id": "sku-1", "price": 2.5, "quantity": 1,
         "timestamp": "2011-05-01T10:00:00Z"}


@pytest.fixture(scope="module")
def limited(redis_server, database_factory):
    """The API alone (no worker: jobs stay queued) on a database and Redis db of its own."""
    built = build_stack("sqlite", database_factory("sqlite"),
                        f"redis://127.0.0.1:{redis_server.port}/11", with_worker=False,
                        VITRINE_TENANT_IN_FLIGHT="cpu=2,gpu=4")
    yield built
    built.stop()


def _cli(stack, *args: str):
    return stack.app.test_cli_runner().invoke(args=["tenant", *args])


def _submit(stack, tenant: str, **body):
    return stack.submit("user_profile", {"events": [EVENT]}, tenant, **body)


def test_rate_limit_answers_429_with_retry_after_and_headers(limited):
    limited.key("bursty")
    result = _cli(limited, "set-limits", "bursty", "--rate", "1", "--burst", "3")
    assert result.exit_code == 0, result.output
    assert "rate=1/s burst=3" in result.output
    remaining = []
    for _ in range(3):
        response = _submit(limited, "bursty")
        assert response.status_code == 202, response.json
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Policy"] == "3;w=3"
        remaining.append(int(response.headers["RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    refused = _submit(limited, "bursty")
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert refused.json["error"]["details"][0]["path"] == "limits.submit_rate"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["RateLimit-Reset"]) <= retry_after
    # Another tenant is not limited by this one's burst.
    assert _submit(limited, "calm").status_code == 202
    time.sleep(retry_after + 0.2)
    assert _submit(limited, "bursty").status_code == 202


def test_active_jobs_quota_and_priority_ceiling(limited):
    limited.key("capped")
    result = _cli(limited, "set-limits", "capped", "--max-active", "2", "--max-priority", "3")
    assert result.exit_code == 0, result.output
    first = _submit(limited, "capped", priority=9)
    assert first.status_code == 202
    assert first.json["priority"] == 3  # the operator's ceiling, not the client's wish
    assert _submit(limited, "capped", priority=1).json["priority"] == 1
    refused = _submit(limited, "capped")
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "active_jobs_quota"
    assert int(refused.headers["Retry-After"]) >= 1
    # A cancel frees a place in the quota.
    assert limited.client.post(f"/v1/jobs/{first.json['id']}/cancel",
                               headers=limited.auth("capped")).status_code == 200
    assert _submit(limited, "capped").status_code == 202
    # Back to the defaults.
    result = _cli(limited, "set-limits", "capped", "--max-active", "default",
                  "--max-priority", "default")
    assert result.exit_code == 0 and "max_priority=9" in result.output
    assert _submit(limited, "capped", priority=9).json["priority"] == 9


def test_cli_refuses_bad_values_and_unknown_tenants(limited):
    limited.key("someone")
    for args in (["--max-priority", "10"], ["--burst", "0"], ["--rate", "fast"],
                 ["--rate", "0"], []):
        result = _cli(limited, "set-limits", "someone", *args)
        assert result.exit_code != 0, args
    result = _cli(limited, "set-limits", "nobody", "--rate", "5")
    assert result.exit_code != 0 and "no tenant 'nobody'" in result.output
    shown = _cli(limited, "show-limits", "someone")
    assert shown.exit_code == 0
    settings = limited.settings
    assert (f"rate={settings.tenant_submit_rate:g}/s burst={settings.tenant_submit_burst} "
            f"max_active={settings.tenant_max_active_jobs}") in shown.output


def test_jobs_beyond_the_in_flight_cap_are_held_with_their_position(limited):
    ids = [_submit(limited, "holder").json["id"] for _ in range(4)]
    views = [limited.get(job_id, "holder") for job_id in ids]
    # Two sent (the cap), two held behind them; nothing is lost, all are queued.
    assert [v["status"] for v in views] == ["queued"] * 4
    positions = [v["queue_position"] for v in views]
    assert positions == sorted(set(positions))  # each behind the one before
    queues = limited.client.get("/v1/queues", headers=limited.auth("holder")).json["queues"]
    cpu = next(q for q in queues if q["queue"] == "cpu")
    assert cpu["tenant"] == {"queued": 4, "held": 2, "running": 0, "in_flight_cap": 2}
    assert cpu["depth"] >= 4 and cpu["running"] == 0 and "user_profile" in cpu["job_types"]
    # Another tenant's new job is sent at once: ahead of the holder's held jobs.
    other = limited.get(_submit(limited, "newcomer").json["id"], "newcomer")
    assert other["queue_position"] < positions[2]
    assert [limited.get(i, "holder")["queue_position"] for i in ids[2:]] == [
        p + 1 for p in positions[2:]]
