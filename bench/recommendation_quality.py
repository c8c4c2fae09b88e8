"""Recommendation quality on Amazon Office: hold out each shopper's last item.

    python bench/recommendation_quality.py [--users N]

Uses the worker's own code: catalog texts embedded with the configured model, co-occurrence
learned from every shopper's sequence without their held-out item (what
POST /v1/catalogs/{id}/events would hold), and the same ranker the `recommendation` job runs.
Reports hit@10 and NDCG@10 for the system, text only, co-occurrence only, most popular and
random, in one table.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from shared.schemas.catalogs import CatalogItemIn, Filters  # noqa: E402
from tests.support.events import office_catalog_items, office_sequences  # noqa: E402
from worker.models.embeddings import Embedder  # noqa: E402
from worker.models.sources import embedding_source  # noqa: E402
from worker.recommendation import cooccurrence, ranker  # noqa: E402
from worker.recommendation.index import CatalogIndex  # noqa: E402

K = 10


def build_index(embedder: Embedder) -> CatalogIndex:
    items = office_catalog_items()
    texts = [CatalogItemIn(**item).embedded_text() for item in items]
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    print(f"embedded {len(items)} items in {time.perf_counter() - started:.1f}s")
    return CatalogIndex(
        catalog_id=uuid.uuid4(), version=1, ids=[i["id"] for i in items],
        position={item["id"]: n for n, item in enumerate(items)}, vectors=vectors,
        titles=[i["title"] for i in items], categories=[i.get("category", "").lower()
                                                        for i in items],
        prices=np.array([i.get("price", np.nan) for i in items]),
        in_stock=np.ones(len(items), dtype=bool), popularity=np.zeros(len(items)),
    )


def metrics(ranked: list[str], target: str) -> tuple[int, float]:
    if target not in ranked[:K]:
        return 0, 0.0
    return 1, 1 / math.log2(ranked.index(target) + 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=0, help="0: every shopper")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    embedder = Embedder.load(embedding_source(""), "cpu")
    index = build_index(embedder)
    sequences = office_sequences()
    users = sorted(sequences, key=int)[: args.users or None]
    training = [[index.position[i] for i in seq[:-1]] for seq in sequences.values()]
    matrix = cooccurrence.build(training, len(index))
    counts = np.zeros(len(index))
    for seq in training:
        for position in seq:
            counts[position] += 1
    rng = np.random.default_rng(0)
    totals = {name: [0, 0.0] for name in ("system", "text only", "co-occurrence only",
                                          "most popular", "random")}
    everything = Filters()
    started = time.perf_counter()
    for user in users:
        history_ids, target = sequences[user][:-1], sequences[user][-1]

        def entries(ids=history_ids):
            return [ranker.HistoryEntry(title=index.titles[index.position[i]], event="purchase",
                                        vector=index.vectors[index.position[i]],
                                        position=index.position[i]) for i in ids]

        runs = {
            "system": ranker.rank(index, entries(), matrix, filters=everything, k=K,
                                  exclude_seen=True, diversity=0.0),
            "text only": ranker.rank(index, entries(), None, filters=everything, k=K,
                                     exclude_seen=True, diversity=0.0),
        }
        seen = set(history_ids)
        co_scores = np.zeros(len(index))
        for weight, entry in zip([e.weight for e in _weighed(entries())], entries(), strict=True):
            co_scores += weight * matrix[entry.position].toarray().ravel()
        by_co = [index.ids[i] for i in np.argsort(-co_scores) if index.ids[i] not in seen][:K]
        popular = [index.ids[i] for i in np.argsort(-counts, kind="stable")
                   if index.ids[i] not in seen][:K]
        unseen = [i for i in index.ids if i not in seen]
        random = list(rng.choice(unseen, size=K, replace=False))
        lists = {name: [item["id"] for item in items] for name, items in runs.items()}
        lists.update({"co-occurrence only": by_co, "most popular": popular, "random": random})
        for name, ranked in lists.items():
            hit, gain = metrics(ranked, target)
            totals[name][0] += hit
            totals[name][1] += gain
    elapsed = time.perf_counter() - started
    print(f"\nAmazon Office, leave-last-out, {len(users)} shoppers, {len(index)} items "
          f"({elapsed / len(users) * 1000:.1f} ms per shopper for all five rankers)")
    print(f"{'ranker':<20} {'hit@10':>7} {'NDCG@10':>8}")
    for name, (hits, gain) in totals.items():
        print(f"{name:<20} {hits / len(users):>7.4f} {gain / len(users):>8.4f}")
    return 0


def _weighed(entries: list[ranker.HistoryEntry]) -> list[ranker.HistoryEntry]:
    ranker.weigh(entries)
    return entries


if __name__ == "__main__":
    sys.exit(main())
