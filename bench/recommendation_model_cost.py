"""What a trained sequential model adds to each recommendation job, in process.

    nice -n 10 python bench/recommendation_model_cost.py [--requests 500] [--vectors-cache F]

Times the ranker (CPU per request, one thread) three ways on the same Office shoppers,
interleaved: as before this issue (co-occurrence and text, no evidence),
with the evidence lookups and one-listing-per-product, and with the sequential model too
(one transformer pass over the history per request, default size: width 64, 2 layers, the
last 50 items). The model's weights do not change its cost, so a few training steps do.
bench/recommendation.py measures the whole system with and without a model.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.recommendation_quality import build_index  # noqa: E402
from shared.schemas.catalogs import Filters  # noqa: E402
from tests.support.events import office_sequences  # noqa: E402
from worker.recommendation import cooccurrence, ranker, training  # noqa: E402
from worker.recommendation.sequential import SequenceScorer, SequentialConfig  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--vectors-cache", type=Path, default=None)
    parser.add_argument("--max-item", type=int, default=0, help="a slice of the catalog")
    args = parser.parse_args()
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)  # as a cpu worker process runs (BLAS too)
    threadpool_limits(limits=1)
    index = build_index(None, args.vectors_cache, args.max_item)
    sequences = [kept for s in office_sequences().values()
                 if len(kept := [index.position[i] for i in s if i in index.position]) >= 2]
    training_sequences = [s[:-1] for s in sequences]
    matrix = cooccurrence.build(training_sequences, len(index))
    support = cooccurrence.build_support(training_sequences, len(index))
    data = training.split(training_sequences)
    fitted = training.fit(data.training, data.validation[:50], index,
                          SequentialConfig(text_dim=index.vectors.shape[1]), budget_s=5,
                          max_epochs=1, seed=0)
    scorer = SequenceScorer(fitted.model, np.arange(len(index)), index.vectors)
    histories = [s[:-1][-20:] for s in sequences if len(s) >= 4][:args.requests]
    blend = ranker.Blend(0.2, 0.35, 1.0)

    def entries(history):
        return [ranker.HistoryEntry(title=index.titles[p], event="purchase",
                                    vector=index.vectors[p], position=p) for p in history]

    def before(history):
        ranker.rank(index, entries(history), matrix, filters=Filters(), k=10,
                    exclude_seen=True, diversity=0.0)

    def evidence(history):
        ranker.rank(index, entries(history), matrix, filters=Filters(), k=10,
                    exclude_seen=True, diversity=0.0, support=support)

    def with_model(history):
        scores = scorer.scores(scorer.table[history])
        ranker.rank(index, entries(history), matrix, filters=Filters(), k=10,
                    exclude_seen=True, diversity=0.0, support=support, model_scores=scores,
                    blend=blend)

    ways = {"co-occurrence + text, no evidence": before, "+ evidence and twins": evidence,
            "+ sequential model": with_model}
    timings: dict[str, list[float]] = {name: [] for name in ways}
    for history in histories[:20]:  # warm-up
        for way in ways.values():
            way(history)
    for history in histories:
        for name, way in ways.items():
            started = time.thread_time()  # CPU: the machine is shared, wall time is noise
            way(history)
            timings[name].append((time.thread_time() - started) * 1e3)
    base = statistics.median(timings["co-occurrence + text, no evidence"])
    print(f"\n{len(histories)} requests, Office ({len(index)} items), 1 thread, load "
          f"average {os.getloadavg()[0]:.1f}")
    print(f"{'ranker (CPU per request)':<36} {'p50 ms':>7} {'p99 ms':>7} {'p50 ratio':>9}")
    for name, values in timings.items():
        values.sort()
        p50, p99 = statistics.median(values), values[int(0.99 * (len(values) - 1))]
        print(f"{name:<36} {p50:>7.2f} {p99:>7.2f} {p50 / base:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
