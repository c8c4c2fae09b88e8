"""The continuous batcher with the real SmolLM2: rows leave when they finish, waiting prompts
join, deadlines are kept, and a row's text does not depend on its batch-mates."""

from __future__ import annotations

import logging
import re
import time

import pytest

from tests.support.processes import wait_for
from worker.generation.continuous import ContinuousBatcher, DeadlineExceeded, cache_keyword
from worker.generation.engine import BatchingGenerator, GenerationRequest
from worker.generation.prompts import REWRITE_FACT, option_values

pytestmark = pytest.mark.slow

FACTS = ["This desk stapler staples up to 20 sheets at once.",
         "The lever handle turns a quarter turn to open or close.",
         "Each box holds 100 powder-free nitrile exam gloves."]


@pytest.fixture(scope="module")
def generator():
    """SmolLM2 from the offline package, as a gpu worker loads it."""
    import torch

    from worker.models.generation import Generator
    from worker.models.sources import generation_source

    torch.set_num_threads(2)
    return Generator.load(generation_source("", ""), "cpu")


def _rewrite(fact: str, seed: int, **extra) -> GenerationRequest:
    messages = REWRITE_FACT.messages(**option_values("friendly", None, "en"), fact=fact)
    return GenerationRequest(messages=messages, max_new_tokens=extra.pop("tokens", 40),
                             temperature=extra.pop("temperature", 0.7), seed=seed,
                             one_sentence=extra.pop("one_sentence", True), **extra)


def test_same_seed_same_text_alone_and_with_batch_mates(generator):
    batcher = ContinuousBatcher(generator, max_batch_size=8)
    alone = [batcher.submit(_rewrite(f, i)).result(timeout=120).text
             for i, f in enumerate(FACTS)]
    futures = [batcher.submit(_rewrite(f, i)) for i, f in enumerate(FACTS)]
    together = [f.result(timeout=120) for f in futures]
    assert [o.text for o in together] == alone
    assert max(o.batch_size for o in together) > 1


def _logs_rows_per_step(caplog, expected: float) -> None:
    """The batcher's last event=batcher_stats line says `expected` rows per step (it is
    written by the batcher thread just after the step that set the last result)."""
    def logged() -> bool:
        found = re.findall(r"event=batcher_stats steps=\d+ row_steps=\d+ step_s=[\d.]+ "
                           r"rows_per_step=([\d.]+)", caplog.text)
        return bool(found) and abs(float(found[-1]) - expected) < 0.01
    wait_for(logged, 30, interval=0.05, what=f"event=batcher_stats rows_per_step={expected}")


def test_short_rows_finish_while_a_long_row_runs_on(generator, caplog):
    caplog.set_level(logging.INFO, logger="vitrine.batcher")
    batcher = ContinuousBatcher(generator, max_batch_size=8)
    long = batcher.submit(_rewrite("Write a long story about a lighthouse keeper.", 1,
                                   tokens=160, one_sentence=False, temperature=0.0))
    time.sleep(0.5)  # the long row is decoding when the short ones arrive
    short = [batcher.submit(_rewrite(f, i, tokens=30)) for i, f in enumerate(FACTS)]
    for future in short:
        future.result(timeout=120)
        assert not long.done(), "a short row waited for the long one"
    assert long.result(timeout=300).tokens > max(f.result().tokens for f in short)
    assert batcher.mean_rows_per_step > 1
    # The batch drained: its totals are in the log for benchmarks and operators to read.
    _logs_rows_per_step(caplog, batcher.mean_rows_per_step)


def test_a_static_batch_counts_only_rows_still_writing(generator, caplog):
    """In a static batch a finished row is padding until the longest ends: 4 rows with
    budgets of 3, 6, 12 and 24 tokens fill well under 4 rows per step on average."""
    caplog.set_level(logging.INFO, logger="vitrine.batcher")
    batcher = BatchingGenerator(generator, max_batch_size=4, max_wait_ms=200)
    prompt = "Write a long story about a lighthouse keeper."
    futures = [batcher.submit(_rewrite(prompt, i, tokens=t, one_sentence=False,
                                       temperature=0.0)) for i, t in enumerate((3, 6, 12, 24))]
    outputs = [f.result(timeout=300) for f in futures]
    assert {o.batch_size for o in outputs} == {4}
    written = sum(o.tokens for o in outputs)
    assert batcher.stats["steps"] >= max(o.tokens for o in outputs)
    assert written <= batcher.stats["row_steps"] <= written + 4
    assert 1 < batcher.mean_rows_per_step < 3
    _logs_rows_per_step(caplog, batcher.mean_rows_per_step)


def test_the_earliest_deadline_is_admitted_first(generator):
    batcher = ContinuousBatcher(generator, max_batch_size=1)
    blocker = batcher.submit(_rewrite(FACTS[0], 1, tokens=30))
    wait_for(blocker.running, 60, interval=0.01, what="the blocker to take the only slot")
    relaxed = batcher.submit(_rewrite(FACTS[1], 2))
    urgent = batcher.submit(_rewrite(FACTS[2], 3, deadline=time.monotonic() + 600))
    urgent.result(timeout=300)
    assert not relaxed.done() or relaxed.result().waited_s > urgent.result().waited_s
    relaxed.result(timeout=300)


def test_a_prompt_past_its_deadline_fails_without_taking_a_slot(generator):
    batcher = ContinuousBatcher(generator, max_batch_size=1)
    first = batcher.submit(_rewrite(FACTS[0], 1, tokens=40, one_sentence=False))
    wait_for(first.running, 60, interval=0.01, what="the first row to take the only slot")
    late = batcher.submit(_rewrite(FACTS[1], 2, deadline=time.monotonic() + 0.2))
    after = batcher.submit(_rewrite(FACTS[2], 3))
    with pytest.raises(DeadlineExceeded, match="deadline passed"):
        late.result(timeout=120)
    assert first.result(timeout=120).tokens > 0
    waited = after.result(timeout=120)
    assert waited.waited_s > 0  # it queued behind the first row: reported, not hidden
    assert waited.generate_s > 0


def test_a_request_torch_cannot_take_fails_alone(generator):
    batcher = ContinuousBatcher(generator, max_batch_size=8)
    futures = [batcher.submit(_rewrite(f, 2**70 if i == 1 else i))
               for i, f in enumerate(FACTS)]
    with pytest.raises(ValueError, match="Overflow"):
        futures[1].result(timeout=120)
    assert futures[0].result(timeout=120).text and futures[2].result(timeout=120).text


def test_the_kv_cache_goes_by_the_name_the_installed_model_takes():
    """transformers 5.2x calls it `cache`; an older release takes an unknown `cache` into
    **kwargs and decodes without the prompt, so the name follows the forward's signature."""

    class Older:
        def forward(self, input_ids=None, past_key_values=None, **kwargs): ...

    class Newer:
        def forward(self, input_ids=None, cache=None, **kwargs): ...

    assert cache_keyword(Older()) == "past_key_values"
    assert cache_keyword(Newer()) == "cache"
