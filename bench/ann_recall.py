"""Recall of the faiss HNSW search that large catalogs switch to, against exact cosine.

    python bench/ann_recall.py [--queries 500]

Embeds every product text we have (Amazon Office items and UCI Online Retail products),
builds the same index the worker builds above VITRINE_ANN_MIN_ITEMS, and for shopper-like
queries (the mean of a few random items) compares top-10 by exact cosine with (a) HNSW's own
top 10 and (b) what the ranker does: HNSW proposes ANN_CANDIDATES, exact scores rank them.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from shared.schemas.catalogs import CatalogItemIn  # noqa: E402
from tests.support.events import DATA, office_catalog_items  # noqa: E402
from worker.models.embeddings import Embedder  # noqa: E402
from worker.models.sources import embedding_source  # noqa: E402
from worker.recommendation.index import ANN_CANDIDATES, _build_ann  # noqa: E402


def texts() -> list[str]:
    found = [CatalogItemIn(**item).embedded_text() for item in office_catalog_items()]
    with (DATA / "uci-online-retail" / "products.csv").open(newline="") as handle:
        found += [row["Description"] for row in csv.DictReader(handle) if row["Description"]]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    corpus = texts()
    embedder = Embedder.load(embedding_source(""), "cpu")
    started = time.perf_counter()
    vectors = embedder.encode(corpus).astype(np.float32)
    print(f"embedded {len(corpus)} texts in {time.perf_counter() - started:.1f}s")
    index = _build_ann(vectors)
    rng = np.random.default_rng(0)
    plain = reranked = 0.0
    for _ in range(args.queries):
        query = vectors[rng.choice(len(vectors), size=4, replace=False)].mean(axis=0)
        query /= np.linalg.norm(query)
        exact = set(np.argsort(-(vectors @ query))[:10])
        _, found = index.search(query[None, :], 10)
        plain += len(exact & set(found[0])) / 10
        _, pool = index.search(query[None, :], ANN_CANDIDATES)
        pool = pool[0][pool[0] >= 0]
        top = pool[np.argsort(-(vectors[pool] @ query))[:10]]
        reranked += len(exact & set(top)) / 10
    print(f"{len(corpus)} items, {args.queries} queries: recall@10 HNSW alone "
          f"{plain / args.queries:.4f}; HNSW {ANN_CANDIDATES} candidates + exact rerank "
          f"{reranked / args.queries:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
