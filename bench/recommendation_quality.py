"""Recommendation quality on Amazon Office: hold out each shopper's last item.

    nice -n 10 python bench/recommendation_quality.py [--users N] [--budget-s 600] [--threads 1]

Uses the worker's own code: catalog texts embedded with the configured model, co-occurrence
learned from every shopper's sequence without their held-out item (what
POST /v1/catalogs/{id}/events would hold), the same ranker the `recommendation` job runs,
and the same training the `train_recommender` job runs. The sequential model sees only the
training sequences (each shopper's items but the last); within them, the trainer holds out
each shopper's second-to-last item to stop training and choose the blend weights, so the
test items are never seen. A twin listing of the held-out item (same brand and title after
normalising) counts as a hit, because the catalog says they are one product.
"""

from __future__ import annotations

import argparse
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
from worker.recommendation import cooccurrence, ranker, training  # noqa: E402
from worker.recommendation.evaluation import K, Tallies, top_unseen  # noqa: E402
from worker.recommendation.index import CatalogIndex  # noqa: E402
from worker.recommendation.sequential import SequenceScorer, SequentialConfig  # noqa: E402
from worker.recommendation.twins import group_listings  # noqa: E402


def build_index(embedder: Embedder | None, cache: Path | None = None,
                max_item: int = 0) -> CatalogIndex:
    """The Office catalog embedded (or its vectors from `cache`, written on the first run);
    with `max_item`, only the items whose id is below it (a slice for quick runs)."""
    items = [i for i in office_catalog_items() if not max_item or int(i["id"]) < max_item]
    if cache is not None and cache.exists():
        vectors = np.load(cache)
    else:
        embedder = embedder or Embedder.load(embedding_source(""), "cpu")
        texts = [CatalogItemIn(**item).embedded_text() for item in items]
        started = time.perf_counter()
        vectors = embedder.encode(texts)
        print(f"embedded {len(items)} items in {time.perf_counter() - started:.1f}s",
              flush=True)
        if cache is not None:
            np.save(cache, vectors)
    return CatalogIndex(
        catalog_id=uuid.uuid4(), version=1, ids=[i["id"] for i in items],
        position={item["id"]: n for n, item in enumerate(items)}, vectors=vectors,
        titles=[i["title"] for i in items], categories=[i.get("category", "").lower()
                                                        for i in items],
        prices=np.array([i.get("price", np.nan) for i in items]),
        in_stock=np.ones(len(items), dtype=bool), popularity=np.zeros(len(items)),
        groups=group_listings([i["title"] for i in items], [i.get("brand") for i in items]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=0, help="0: every shopper")
    parser.add_argument("--budget-s", type=float, default=600, help="training time budget")
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--patience", type=int, default=training.PATIENCE,
                        help="epochs without a better validation NDCG before stopping")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--budget-clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: the budget counts this process's CPU seconds (a shared, "
                             "overloaded machine), wall: elapsed time as the job counts it")
    parser.add_argument("--max-item", type=int, default=0,
                        help="a slice: items with id below this, sequences cut to them "
                             "(shoppers left with 4 or more); 0: the full catalog")
    parser.add_argument("--vectors-cache", type=Path, default=None,
                        help="a .npy file: the item vectors, embedded once and reused")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    index = build_index(None, args.vectors_cache, args.max_item)
    sequences = office_sequences()
    if args.max_item:
        sequences = {user: kept for user, sequence in sequences.items()
                     if len(kept := [i for i in sequence if i in index.position]) >= 4}
    users = sorted(sequences, key=int)[: args.users or None]
    positions = {user: [index.position[i] for i in sequences[user]] for user in sequences}
    training_sequences = [seq[:-1] for seq in positions.values()]  # the test items held out
    matrix = cooccurrence.build(training_sequences, len(index))
    counts = np.zeros(len(index))
    for seq in training_sequences:
        np.add.at(counts, seq, 1)

    started, cpu_started = time.perf_counter(), time.process_time()
    data = training.split(training_sequences)
    config = SequentialConfig(text_dim=index.vectors.shape[1], dim=args.dim)
    fitted = training.fit(data.training, data.validation, index, config,
                          budget_s=args.budget_s, max_epochs=args.max_epochs, seed=0,
                          patience=args.patience,
                          clock=time.process_time if args.budget_clock == "cpu"
                          else time.monotonic)
    choice = training.choose_blend(fitted.model, index, data.training, data.validation, 0)
    train_seconds = time.perf_counter() - started
    train_cpu = time.process_time() - cpu_started
    print(f"trained on {sum(len(s) for s in data.training)} interactions of "
          f"{len(data.training)} shoppers: {fitted.epochs} epochs ({fitted.steps} steps, "
          f"best {fitted.best_epoch}, stopped: {fitted.stopped}) in {fitted.seconds:.0f}s "
          f"({args.budget_clock} clock); "
          f"with validation and the blend choice {train_seconds:.0f}s wall, {train_cpu:.0f}s "
          f"CPU, {torch.get_num_threads()} torch thread(s); load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"chosen blend {choice.blend}; validation (second-to-last items): "
          f"{choice.validation}", flush=True)

    scorer = SequenceScorer(fitted.model, np.arange(len(index)), index.vectors)
    rng = np.random.default_rng(0)
    tallies = Tallies()
    everything = Filters()
    started = time.perf_counter()
    for chunk_start in range(0, len(users), 256):
        chunk = users[chunk_start:chunk_start + 256]
        model_scores = scorer.scores_for_many([positions[u][:-1] for u in chunk])
        for user, from_model in zip(chunk, model_scores, strict=True):
            history, target = positions[user][:-1], positions[user][-1]
            seen = np.isin(index.groups, index.groups[history])

            def entries(history=history):
                return [ranker.HistoryEntry(title=index.titles[p], event="purchase",
                                            vector=index.vectors[p], position=p)
                        for p in history]

            def ranked(items):
                return [index.position[item["id"]] for item in items]

            found = ranker.signals(index, entries(), matrix, from_model)
            lists = {
                "co-occurrence only": top_unseen(found.cooccurrence, seen),
                "text only": top_unseen(found.text, seen),
                "today's blend (text + co-occurrence)": ranked(ranker.rank(
                    index, entries(), matrix, filters=everything, k=K, exclude_seen=True,
                    diversity=0.0)),
                "sequential model only": top_unseen(found.model, seen),
                "model + blend (chosen weights)": ranked(ranker.rank(
                    index, entries(), matrix, filters=everything, k=K, exclude_seen=True,
                    diversity=0.0, model_scores=from_model, blend=choice.blend)),
                "most popular": top_unseen(counts, seen),
                "random": rng.choice(np.flatnonzero(~seen), size=K, replace=False),
            }
            for name, ranked_list in lists.items():
                tallies.add(name, ranked_list, target, index.groups)
    elapsed = time.perf_counter() - started
    print(f"\nAmazon Office{' slice' if args.max_item else ''}, leave-last-out, "
          f"{len(users)} shoppers, {len(index)} items "
          f"({elapsed / len(users) * 1000:.1f} ms per shopper for all rankers)")
    print(f"{'ranker':<40} {'hit@10':>7} {'NDCG@10':>8}")
    for name, figures in tallies.as_dict().items():
        print(f"{name:<40} {figures['hit_at_10']:>7.4f} {figures['ndcg_at_10']:>8.4f}")
    print(f"training time: fit {fitted.seconds:.0f}s ({args.budget_clock} clock); fit, "
          f"validation and blend choice {train_seconds:.0f}s wall, {train_cpu:.0f}s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
