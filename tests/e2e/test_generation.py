"""Generation jobs end to end over HTTP with the real SmolLM2 model on the gpu queue.

What the result promises is checked on the result itself: every sentence says where it came
from, every model sentence is one the verifier kept, numbers in the text occur in the input,
the audit holds every generation, and the SEO, marketing and social rules hold.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata

import pytest

from shared.schemas.generation import Product
from tests.support.events import office_products_with_descriptions
from tests.support.processes import wait_for
from worker.generation.facts import FactSheet
from worker.generation.seo_fields import description_problems, keyword_problems, title_problems

pytestmark = pytest.mark.slow

STAPLER = {
    "title": "Swingline Stapler, Commercial Desk Stapler, 20 Sheet Capacity, Black",
    "brand": "Swingline", "category": "Office Products, Staplers",
    "description": "This desk stapler staples up to 20 sheets at once. Its jam-free design "
                   "keeps your office moving.",
    "features": ["Staples up to 20 sheets", "Jam-free design"],
    "attributes": {"color": "black"}, "price": 12.99, "currency": "USD",
}
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _numbers_in_input(job_input: dict) -> set[str]:
    return set(NUMBER.findall(json.dumps(job_input)))


def _assert_copy_result(job: dict, job_input: dict, max_words: int) -> None:
    """What every copy result promises, read off the result."""
    result = job["result"]
    assert job["model"]["name"].startswith("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert {p["source"] for p in result["sentences"]} <= {"model", "template"}
    kept = {v["text"] for g in result["generations"] for v in g["sentences"] if v["kept"]}
    used = {t for g in result["generations"] for t in g["used"]}
    for piece in result["sentences"]:
        if piece["source"] == "model":
            assert piece["text"] in kept and piece["text"] in used
    model_words = sum(len(p["text"].split()) for p in result["sentences"]
                      if p["source"] == "model")
    assert result["model_share"] == pytest.approx(
        model_words / max(1, sum(len(p["text"].split()) for p in result["sentences"])), abs=0.05)
    assert result["word_count"] <= max_words
    text = result["text"]
    assert set(NUMBER.findall(text)) <= _numbers_in_input(job_input), text
    assert all(c["passed"] for c in result["checks"].values() if c["blocking"])
    assert result["facts"]["facts"] and result["generations"]
    assert all({"text", "seed", "sentences", "batch_size"} <= set(g)
               for g in result["generations"])


def test_product_description(gen_stack):
    job_input = {"product": STAPLER, "options": {"max_words": 60, "seed": 7}}
    job = gen_stack.run("product_description", job_input, timeout=300)
    assert job["status"] == "succeeded", job["error"]
    _assert_copy_result(job, job_input, 60)
    text = job["result"]["text"]
    assert text.startswith(job["result"]["sentences"][0]["text"])
    assert "stapler" in text.lower()  # it says what the product is, not only whose
    assert "Swingline" in text and "20 sheets" in text
    checks = job["result"]["checks"]
    # The whole-text checks the README lists (the on-topic gate is now per sentence: every
    # model sentence was verified against the facts, see _assert_copy_result).
    assert set(checks) == {"not_empty", "length", "complete_sentences", "no_personal_data",
                           "verified_sentences"}
    assert all(c["passed"] for c in checks.values()), checks
    seeds = [g["seed"] for g in job["result"]["generations"]]
    assert seeds == list(range(7, 7 + len(seeds)))  # candidate n of prompt p: seed + index


def test_descriptions_of_real_products_stay_true(gen_stack):
    products = office_products_with_descriptions()[:6]
    inputs = [{"product": p, "options": {"max_words": 80, "seed": i}}
              for i, p in enumerate(products)]
    submitted = [gen_stack.submit("product_description", i).json for i in inputs]
    for job_input, job in zip(inputs, (gen_stack.wait(s["id"], timeout=600) for s in submitted),
                              strict=True):
        assert job["status"] == "succeeded", job["error"]
        _assert_copy_result(job, job_input, 80)
        assert job["result"]["word_count"] >= 20
    sizes = [g["batch_size"] for s in submitted
             for g in gen_stack.get(s["id"])["result"]["generations"]]
    assert max(sizes) > 1


def _brand_and_title_slug(product: dict) -> str:
    """The README's slug: brand + title (the brand once), lower-case ASCII words joined by
    hyphens, whole words up to 80 characters; worked out here, not with the worker's code."""
    title, brand = product["title"].strip(), product.get("brand")
    name = title if not brand or brand.lower() in title.lower() else f"{brand} {title}"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    while len("-".join(words)) > 80:
        words.pop()
    return "-".join(words)


def test_seo_rules_hold_across_real_office_products(gen_stack):
    products = office_products_with_descriptions()[:10]
    submitted = [gen_stack.submit("seo_metadata", {"product": p, "options": {"seed": i}}).json
                 for i, p in enumerate(products)]
    for product, job in zip(products, (gen_stack.wait(s["id"], timeout=600) for s in submitted),
                            strict=True):
        assert job["status"] == "succeeded", job["error"]
        result = job["result"]
        facts = FactSheet.from_product(Product(**product))
        assert not title_problems(result["meta_title"], facts)
        assert not description_problems(result["meta_description"], result["meta_title"], facts)
        assert 1 <= len(set(result["keywords"])) == len(result["keywords"]) <= 10
        assert not [k for k in result["keywords"] if keyword_problems(k, facts)]
        assert re.fullmatch(r"[a-z0-9-]+", result["slug"]) and len(result["image_alt"]) <= 125
        assert set(result["sources"]) == {"meta_title", "meta_description", "image_alt",
                                          "keywords", "slug"}
        assert len(result["raw"]) == len(result["generations"]) >= 1  # the model's own lines
        assert all(r["value"] for r in result["refused"]), result["refused"]  # what it wrote
        assert result["slug"] == _brand_and_title_slug(product)
        # No field is asserted to be the model's: SmolLM2-135M does not write the asked
        # TITLE/DESCRIPTION/KEYWORDS lines (greedy, 0 of these 10; 0 % in the README's copy
        # quality table), so every field is the facts' own. test_seo_fields.py's
        # test_model_lines_are_used_only_when_they_pass covers the model's path.
        assert result["sources"]["slug"] == "template"


@pytest.mark.parametrize("fmt", ["article", "email", "social_post", "video_script"])
def test_marketing_copy(gen_stack, fmt):
    products = office_products_with_descriptions()[1:3]
    job_input = {"format": fmt, "topic": "Back to school desk essentials",
                 "products": [STAPLER, *products], "options": {"max_words": 90, "seed": 11}}
    job = gen_stack.run("marketing_copy", job_input, timeout=300)
    assert job["status"] == "succeeded", job["error"]
    _assert_copy_result(job, job_input, 90)
    result = job["result"]
    assert result["title"] == "Back to school desk essentials" and result["format"] == fmt
    names = [FactSheet.from_product(Product(**p)).name for p in job_input["products"]]
    named = [i for i, name in enumerate(names) if name in result["text"]]
    # A social post's budget fits one product with a fact; the longer formats fit two.
    assert len(named) >= (1 if fmt == "social_post" else 2)
    units = {p["unit"] for p in result["sentences"]}
    for index in named:  # no product is only introduced: each has a fact of its own
        assert any(u.startswith(f"p{index}:fact") for u in units), (names[index], units)
    if fmt == "video_script":
        assert len(result["scenes"]) >= 3
        assert all(s["narration"] and s["on_screen"] for s in result["scenes"])
        assert " ".join(s["narration"] for s in result["scenes"]) == result["text"]
    if fmt == "article":
        assert result["text"] == "\n\n".join(result["paragraphs"])


def test_marketing_copy_without_facts_fails_asking_for_products(gen_stack):
    job = gen_stack.run("marketing_copy", {"format": "article", "topic": "Autumn",
                                           "options": {"max_words": 200}}, timeout=300)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "quality_check_failed"
    assert "too few facts" in job["error"]["message"]


SOCIAL = [
    ("My stapler arrived broken and I want a refund now! Call me at +1 415 555 0134 or "
     "dana.k@example.com", "en", "complaint", True),
    ("You people are idiots, worst shop ever", "en", "abuse", True),
    ("收到的订书机是坏的，包装也破损了", "zh", "complaint", True),
    ("你们是骗子，垃圾店铺", "zh", "abuse", True),
    ("什么时候发货？", "zh", "question", False),
    ("When will my order ship?", "en", "question", False),
    ("Best stapler I have ever owned, thank you!", "en", "praise", False),
]


@pytest.mark.parametrize(("message", "language", "intent", "escalate"), SOCIAL)
def test_social_replies_in_the_customers_language(gen_stack, message, language, intent,
                                                  escalate):
    settings = {"shipping": {"en": "We ship every order within 2 business days.",
                             "zh": "我们会在两个工作日内发货。"}}
    job = gen_stack.run("social_reply", {"platform": "instagram", "message": message,
                                         "product": STAPLER, "reply_settings": settings,
                                         "options": {"seed": 3}}, timeout=300)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert (result["language"], result["intent"], result["escalate"]) == (
        language, intent, escalate)
    reply = result["reply"]
    assert reply
    has_han = re.search(r"[\u4e00-\u9fff]", reply) is not None
    assert has_han is (language == "zh"), reply
    assert "thank" not in reply.lower() or intent == "praise" or intent == "question"
    if intent == "question":
        assert "2" in reply or "两个" in reply  # answered from the reply settings
    if "@" in message:
        assert result["redactions"] == {"email": 1, "phone": 1}
        assert "555" not in json.dumps(result) and "dana.k" not in json.dumps(result)
        with gen_stack.db.session() as session:
            from shared.models import Job

            stored = session.get(Job, __import__("uuid").UUID(job["id"])).input
        assert "[phone]" in stored["message"] and "555" not in stored["message"]


def test_stored_reply_settings_answer_and_a_missing_answer_escalates(gen_stack):
    tenant = "reply-settings-shop"
    answerless = gen_stack.run("social_reply", {"platform": "x",
                                                "message": "Can I return it if it's too big?"},
                               tenant=tenant, timeout=300)
    assert answerless["result"]["escalate"] is True
    assert answerless["result"]["answered"] is False
    response = gen_stack.client.put("/v1/settings", headers=gen_stack.auth(tenant), json={
        "replies": {"returns": "Returns are free within 30 days.",
                    "contact": "email help@shop.example"}})
    assert response.status_code == 200, response.json
    job = gen_stack.run("social_reply", {"platform": "x",
                                         "message": "Can I return it if it's too big?"},
                        tenant=tenant, timeout=300)
    assert job["result"]["answered"] is True and job["result"]["escalate"] is False
    assert "Returns are free within 30 days." in job["result"]["reply"]
    assert "email help@shop.example" in job["result"]["reply"]


def test_same_seed_gives_same_text_alone_and_in_a_shared_batch(gen_stack):
    body = {"product": STAPLER, "options": {"max_words": 40, "seed": 1234}}
    alone = gen_stack.run("product_description", body, timeout=300)
    # More noise rows than one batch holds: while the first batch runs, the rest of the
    # noise and the second run's rows queue up and are gathered together.
    noise = [gen_stack.submit("diag_generate", {"prompt": f"Say hello {i}", "seed": i,
                                                "max_words": 30}).json for i in range(12)]
    again = gen_stack.run("product_description", body, timeout=300)
    for job in noise:
        gen_stack.wait(job["id"], timeout=300)
    assert alone["status"] == again["status"] == "succeeded"
    own = len(again["result"]["generations"])
    assert max(g["batch_size"] for g in again["result"]["generations"]) > own, \
        "the second run never shared a batch with the noise jobs"
    assert [g["text"] for g in again["result"]["generations"]] == [
        g["text"] for g in alone["result"]["generations"]]
    assert again["result"]["text"] == alone["result"]["text"]


def test_failed_result_keeps_every_generation_for_the_audit(gen_stack):
    submitted = [gen_stack.submit("diag_generate", {"prompt": f"Name a colour. ({i})",
                                                    "fail": i == 1, "seed": i}).json
                 for i in range(3)]
    jobs = [gen_stack.wait(s["id"], timeout=300) for s in submitted]
    assert [j["status"] for j in jobs] == ["succeeded", "failed", "succeeded"]
    failed = jobs[1]
    assert failed["error"]["code"] == "quality_check_failed"
    assert failed["attempts"] == 1  # one worker run ...
    assert len(failed["result"]["generations"]) == gen_stack.settings.candidates_for("cpu")
    assert all(g["text"] for g in failed["result"]["generations"])  # ... every generation kept


def test_a_request_that_raises_fails_alone(gen_stack):
    """A request torch cannot run (a seed beyond 64 bits) fails alone; its batch-mates,
    re-run one at a time, succeed."""
    worker = gen_stack.workers[-1]
    before = worker.count("event=batch_failed") + worker.count("event=request_refused")
    submitted = [gen_stack.submit("diag_generate", {"prompt": f"Name a fruit. ({i})", "seed": i,
                                                    "unusable_seed": i == 1}).json
                 for i in range(3)]
    jobs = [gen_stack.wait(s["id"], timeout=300) for s in submitted]
    assert [j["status"] for j in jobs] == ["succeeded", "failed", "succeeded"]
    assert jobs[1]["error"]["code"] == "model_error"
    assert "Overflow" in jobs[1]["error"]["message"]
    # The static batcher re-runs the batch one prompt at a time; the continuous one refuses
    # the request at admission: either way the worker logged it and kept serving.
    assert worker.count("event=batch_failed") + worker.count("event=request_refused") > before


def test_generation_stops_at_its_soft_limit_on_the_threads_pool(gen_stack):
    started = time.monotonic()
    job = gen_stack.run("diag_generate_limited", {"prompt": "Write a long story about a "
                                                  "lighthouse keeper.", "max_words": 600},
                        timeout=120)
    # Either it ran until its limit, or the batcher's rate showed early it could not finish.
    assert job["status"] == "failed"
    assert job["error"]["code"] in {"timeout", "deadline_exceeded"}
    assert time.monotonic() - started < 60
    after = gen_stack.run("diag_generate", {"prompt": "Say hi.", "max_words": 5}, timeout=300)
    assert after["status"] == "succeeded"  # the batcher kept serving


def test_a_job_that_cannot_get_its_turn_in_time_fails_early(gen_stack):
    """With every slot taken by long rows, a job with a 2 s limit fails deadline_exceeded,
    saying the measured rate, instead of waiting for its limit in the queue; the long rows
    (2 s limits too) are dropped when their deadline passes, so the batcher is free after."""
    long = [gen_stack.submit("diag_generate_limited", {
        "prompt": f"Count from 1 to 500, one number per line. ({i})", "max_words": 300,
        "seed": i}).json for i in range(12)]
    job = gen_stack.run("diag_generate_limited", {"prompt": "Say hi.", "max_words": 60},
                        timeout=120)
    assert job["status"] == "failed" and job["error"]["code"] == "deadline_exceeded"
    assert "decode steps/s" in job["error"]["message"]
    # Rows still decoding at their deadline are dropped by the batcher, not timed out.
    ended = [gen_stack.wait(j["id"], timeout=120)["error"]["code"] for j in long]
    assert set(ended) == {"deadline_exceeded"}
    started = time.monotonic()
    after = gen_stack.run("diag_generate", {"prompt": "Say hi.", "max_words": 5}, timeout=120)
    assert after["status"] == "succeeded" and time.monotonic() - started < 60


def test_progress_is_visible_while_running(gen_stack):
    job_id = gen_stack.submit("product_description", {
        "product": STAPLER, "options": {"max_words": 120, "seed": 2}}).json["id"]
    seen: list[dict] = []

    def finished() -> bool:
        job = gen_stack.get(job_id)
        if job["status"] == "running" and job["progress"]:
            seen.append(job["progress"])
        return job["status"] in {"succeeded", "failed"}

    wait_for(finished, 300, interval=0.05, what="the description to finish")
    assert seen, "no progress was visible while the job ran"
    assert all(p["of"] > 0 and 0 <= p["generations"] <= p["of"] for p in seen)
    assert {p["state"] for p in seen} <= {"waiting for a batch slot", "generating", "verifying"}
    timings = gen_stack.get(job_id)["result"]["timings"]
    assert timings["generation_s"] > 0 and timings["batch_wait_s"] >= 0
    final = gen_stack.get(job_id)["progress"]
    assert final["generations"] == final["of"] and final["tokens"] > 0
