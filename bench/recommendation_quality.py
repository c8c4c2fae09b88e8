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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.support.events import office_catalog_items, office_sequences  # noqa: E402
from worker.recommendation import cooccurrence, ranker, training  # noqa: E402
from worker.recommendation.evaluation import K, Tallies, top_unseen  # noqa: E402
from worker.recommendation.index import CatalogIndex  # noqa: E402
from worker.recommendation.sequential import SequenceScorer, SequentialConfig  # noqa: E402
from worker.recommendation.twins import group_listings  # noqa: E402


def build_index(embedder: object | None, cache: Path | None = None,
                max_item: int = 0) -> CatalogIndex:
    """The Office catalog embedded (or its vectors from `cache`, written on the first run);
    with `max_item`, only the items whose id is below it (a slice for quick runs)."""
    every = office_catalog_items()
    kept = [n for n, i in enumerate(every) if not max_item or int(i["id"]) < max_item]
    items = [every[n] for n in kept]
    if cache is not None and cache.exists():
        vectors = np.load(cache)
        if len(vectors) == len(every):  # the whole catalog's vectors: take the slice's
            vectors = vectors[kept]
    else:
        # Imported here: with a vectors cache, neither pydantic nor the embedder is needed
        # (bench/recommendation_sweep.py runs where they are not installed).
        from shared.schemas.catalogs import CatalogItemIn
        from worker.models.embeddings import Embedder
        from worker.models.sources import embedding_source

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


@dataclass
class Office:
    """The Office data ready for training and leave-last-out testing."""

    index: CatalogIndex
    users: list[str]
    positions: dict[str, list[int]]  # each shopper's items, the held-out one last
    training_sequences: list[list[int]]  # each shopper's items but the held-out one
    matrix: object  # co-occurrence learned from training_sequences
    counts: np.ndarray  # how many training sequences hold each item


def load_office(vectors_cache: Path | None, max_item: int = 0, users: int = 0) -> Office:
    index = build_index(None, vectors_cache, max_item)
    sequences = office_sequences()
    if max_item:
        sequences = {user: kept for user, sequence in sequences.items()
                     if len(kept := [i for i in sequence if i in index.position]) >= 4}
    chosen = sorted(sequences, key=int)[: users or None]
    positions = {user: [index.position[i] for i in sequences[user]] for user in sequences}
    training_sequences = [seq[:-1] for seq in positions.values()]  # the test items held out
    matrix = cooccurrence.build(training_sequences, len(index))
    counts = np.zeros(len(index))
    for seq in training_sequences:
        np.add.at(counts, seq, 1)
    return Office(index, chosen, positions, training_sequences, matrix, counts)


ALL_RANKERS = ("co-occurrence only", "text only", "today's blend (text + co-occurrence)",
               "sequential model only", "model + blend (chosen weights)", "most popular",
               "random")


def evaluate(office: Office, model, blend: ranker.Blend, rankers=ALL_RANKERS,
             filters=None) -> dict[str, dict[str, float]]:
    """hit@10 and NDCG@10 of each named ranker on every chosen shopper's held-out item.
    `filters`: what ranker.rank filters by (None: the API's empty Filters)."""
    if filters is None:
        from shared.schemas.catalogs import Filters

        filters = Filters()
    index, positions, matrix = office.index, office.positions, office.matrix
    scorer = SequenceScorer(model, np.arange(len(index)), index.vectors)
    rng = np.random.default_rng(0)
    tallies = Tallies()
    users = office.users
    for chunk_start in range(0, len(users), 256):
        chunk = users[chunk_start:chunk_start + 256]
        model_scores = scorer.scores_for_many([positions[u][:-1] for u in chunk])
        for user, from_model in zip(chunk, model_scores, strict=True):
            history, target = positions[user][:-1], positions[user][-1]
            seen = np.isin(index.groups, index.groups[history])

            entries = [ranker.HistoryEntry(title=index.titles[p], event="purchase",
                                           vector=index.vectors[p], position=p)
                       for p in history]
            found = ranker.signals(index, entries, matrix, from_model)
            for name in rankers:
                if name == "co-occurrence only":
                    chosen = top_unseen(found.cooccurrence, seen)
                elif name == "text only":
                    chosen = top_unseen(found.text, seen)
                elif name == "today's blend (text + co-occurrence)":
                    chosen = [index.position[item["id"]] for item in ranker.rank(
                        index, entries, matrix, filters=filters, k=K, exclude_seen=True,
                        diversity=0.0)]
                elif name == "sequential model only":
                    chosen = top_unseen(found.model, seen)
                elif name == "model + blend (chosen weights)":
                    chosen = [index.position[item["id"]] for item in ranker.rank(
                        index, entries, matrix, filters=filters, k=K, exclude_seen=True,
                        diversity=0.0, model_scores=from_model, blend=blend)]
                elif name == "most popular":
                    chosen = top_unseen(office.counts, seen)
                else:
                    chosen = rng.choice(np.flatnonzero(~seen), size=K, replace=False)
                tallies.add(name, chosen, target, index.groups)
    return tallies.as_dict()


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The model's and the fit's knobs; the defaults are the `train_recommender` job's."""
    config = SequentialConfig(text_dim=0)
    settings = training.DEFAULT_SETTINGS
    parser.add_argument("--dim", type=int, default=config.dim)
    parser.add_argument("--layers", type=int, default=config.layers)
    parser.add_argument("--heads", type=int, default=config.heads)
    parser.add_argument("--max-len", type=int, default=config.max_len)
    parser.add_argument("--dropout", type=float, default=config.dropout)
    parser.add_argument("--feedforward", type=int, default=config.feedforward,
                        help="feed-forward width in multiples of --dim")
    parser.add_argument("--mask-padding", action=argparse.BooleanOptionalAction,
                        default=config.mask_padding,
                        help="attention never reads the left padding")
    parser.add_argument("--lr", type=float, default=settings.learning_rate)
    parser.add_argument("--weight-decay", type=float, default=settings.weight_decay)
    parser.add_argument("--offset-decay", type=float, default=settings.offset_decay,
                        help="weight decay of the per-item offsets (default: --weight-decay)")
    parser.add_argument("--batch", type=int, default=settings.batch)
    parser.add_argument("--label-smoothing", type=float, default=settings.label_smoothing)
    parser.add_argument("--patience", type=int, default=settings.patience,
                        help="epochs without a better validation NDCG before stopping")
    parser.add_argument("--validation-shoppers", type=int,
                        default=settings.validation_shoppers,
                        help="validation shoppers scored after every epoch")
    parser.add_argument("--blend-shoppers", type=int, default=settings.blend_shoppers,
                        help="validation shoppers the blend weights are chosen on")
    parser.add_argument("--bucket", action=argparse.BooleanOptionalAction,
                        default=settings.bucket,
                        help="batches of like lengths (fast with --mask-padding)")


def training_choices(args: argparse.Namespace, text_dim: int
                     ) -> tuple[SequentialConfig, training.Settings]:
    config = SequentialConfig(
        text_dim=text_dim, dim=args.dim, layers=args.layers, heads=args.heads,
        max_len=args.max_len, dropout=args.dropout, feedforward=args.feedforward,
        mask_padding=args.mask_padding)
    settings = training.Settings(
        learning_rate=args.lr, weight_decay=args.weight_decay, offset_decay=args.offset_decay,
        batch=args.batch, label_smoothing=args.label_smoothing, patience=args.patience,
        validation_shoppers=args.validation_shoppers, blend_shoppers=args.blend_shoppers,
        bucket=args.bucket)
    return config, settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=0, help="0: every shopper")
    parser.add_argument("--budget-s", type=float, default=600, help="training time budget")
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    add_training_arguments(parser)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--budget-clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: the budget counts this process's CPU seconds (a shared, "
                             "overloaded machine), wall: elapsed time as the job counts it")
    parser.add_argument("--max-item", type=int, default=0,
                        help="a slice: items with id below this, sequences cut to them "
                             "(shoppers left with 4 or more); 0: the full catalog")
    parser.add_argument("--vectors-cache", type=Path, default=None,
                        help="a .npy file: the item vectors, embedded once and reused")
    parser.add_argument("--refit", action=argparse.BooleanOptionalAction, default=True,
                        help="as the job does, train the chosen model again on every "
                             "training sequence in full (the validation items too) for the "
                             "chosen epochs within what is left of the budget; both models "
                             "are scored")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    office = load_office(args.vectors_cache, args.max_item, args.users)
    index = office.index

    started, cpu_started = time.perf_counter(), time.process_time()
    data = training.split(office.training_sequences)
    config, settings = training_choices(args, index.vectors.shape[1])
    fitted = training.fit(data.training, data.validation, index, config,
                          budget_s=args.budget_s, max_epochs=args.max_epochs, seed=args.seed,
                          settings=settings,
                          clock=time.process_time if args.budget_clock == "cpu"
                          else time.monotonic)
    choice = training.choose_blend(fitted.model, index, data.training, data.validation,
                                   args.seed, settings.blend_shoppers)
    train_seconds = time.perf_counter() - started
    train_cpu = time.process_time() - cpu_started
    print(f"trained on {sum(len(s) for s in data.training)} interactions of "
          f"{len(data.training)} shoppers: {fitted.epochs} epochs ({fitted.steps} steps, "
          f"best {fitted.best_epoch}, stopped: {fitted.stopped}) in {fitted.seconds:.0f}s "
          f"({args.budget_clock} clock); "
          f"with validation and the blend choice {train_seconds:.0f}s wall, {train_cpu:.0f}s "
          f"CPU, {torch.get_num_threads()} torch thread(s); load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"model {config.as_dict()}; fit {settings.as_dict()}")
    print(f"chosen blend {choice.blend}; validation (second-to-last items): "
          f"{choice.validation}", flush=True)

    started = time.perf_counter()
    figures = evaluate(office, fitted.model, choice.blend)
    elapsed = time.perf_counter() - started
    if args.refit:
        refitted = training.refit(office.training_sequences, index, config, fitted,
                                  budget_s=args.budget_s - train_seconds, seed=args.seed,
                                  settings=settings)
        if refitted is None:
            print("refit: would not fit in what is left of the budget; the job would keep "
                  "the validated model")
        else:
            print(f"refit on {sum(len(s) for s in office.training_sequences)} interactions: "
                  f"{refitted.epochs} epochs in {refitted.seconds:.0f}s", flush=True)
            again = evaluate(office, refitted.model, choice.blend, rankers=(
                "sequential model only", "model + blend (chosen weights)"))
            figures["refit: sequential model only"] = again["sequential model only"]
            figures["refit: model + blend (chosen weights)"] = again[
                "model + blend (chosen weights)"]
    print(f"\nAmazon Office{' slice' if args.max_item else ''}, leave-last-out, "
          f"{len(office.users)} shoppers, {len(index)} items "
          f"({elapsed / len(office.users) * 1000:.1f} ms per shopper for all rankers)")
    print(f"{'ranker':<40} {'hit@10':>7} {'NDCG@10':>8}")
    for name, result in figures.items():
        print(f"{name:<40} {result['hit_at_10']:>7.4f} {result['ndcg_at_10']:>8.4f}")
    print(f"training time: fit {fitted.seconds:.0f}s ({args.budget_clock} clock); fit, "
          f"validation and blend choice {train_seconds:.0f}s wall, {train_cpu:.0f}s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
