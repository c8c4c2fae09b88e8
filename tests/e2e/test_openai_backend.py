"""Generation through a real OpenAI-compatible server (`transformers serve`), not a mock."""

from __future__ import annotations

import pytest

from tests.e2e.test_generation import STAPLER

pytestmark = pytest.mark.slow


def test_a_description_is_generated_by_the_server_and_verified(openai_stack, openai_server):
    job = openai_stack.run("product_description",
                           {"product": STAPLER, "options": {"max_words": 50, "seed": 5}},
                           timeout=300)
    assert job["status"] == "succeeded", job["error"]
    assert job["model"] == {"name": openai_server.model, "revision": "openai-compatible"}
    result = job["result"]
    assert result["generations"] and all(g["text"] for g in result["generations"])
    assert all(g["batch_size"] == 1 for g in result["generations"])  # the server batches
    assert "Swingline" in result["text"]
    served = openai_server.process.count("POST /v1/chat/completions")
    assert served >= len(result["generations"])


def test_a_social_reply_through_the_server(openai_stack):
    job = openai_stack.run("social_reply", {"platform": "x", "message": "Love it, thanks!",
                                            "product": STAPLER}, timeout=300)
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["intent"] == "praise" and job["result"]["reply"]
