"""Settings parse the environment once and fail fast, naming the variable."""

from __future__ import annotations

import pytest

from shared.settings import Settings, SettingsError


def test_defaults_need_no_environment():
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(
        "var/vitrine.db")
    assert settings.queue_for("user_profile") == "cpu"
    assert settings.queue_for("product_description") == "gpu"
    assert settings.time_limits_for("user_profile") == (60.0, 90.0)
    assert settings.time_limits_for("seo_metadata") == (300.0, 360.0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"VITRINE_MAX_BODY_BYTES": "lots"}, "VITRINE_MAX_BODY_BYTES"),
        ({"VITRINE_QUEUE_ROUTES": "user_profile"}, "VITRINE_QUEUE_ROUTES"),
        ({"VITRINE_QUEUE_ROUTES": "user_profile=tpu"}, "VITRINE_QUEUE_ROUTES"),
        ({"VITRINE_TIME_LIMITS": "user_profile=90/60"}, "VITRINE_TIME_LIMITS"),
        ({"VITRINE_TIME_LIMITS": "user_profile=60"}, "VITRINE_TIME_LIMITS"),
        ({"VITRINE_DEVICE": "tpu"}, "VITRINE_DEVICE"),
        ({"VITRINE_REQUEUE_AFTER_S": "-1"}, "VITRINE_REQUEUE_AFTER_S"),
        ({"VITRINE_MAX_ATTEMPTS": "0"}, "VITRINE_MAX_ATTEMPTS"),
        ({"VITRINE_FLOWER_BASIC_AUTH": "nopassword"}, "VITRINE_FLOWER_BASIC_AUTH"),
    ],
)
def test_bad_values_fail_naming_the_variable(env, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_unrouted_job_type_is_an_error():
    with pytest.raises(SettingsError, match="VITRINE_QUEUE_ROUTES"):
        Settings.from_env({}).queue_for("make_coffee")


def test_stale_after_is_hard_limit_plus_grace():
    settings = Settings.from_env({"VITRINE_STALE_GRACE_S": "5"})
    assert settings.stale_after_s("user_profile") == 95.0
