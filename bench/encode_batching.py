"""Free-text history encodings: one at a time vs shared forward passes across jobs.

    python bench/encode_batching.py [--histories 200] [--threads 8 32]

In process, with the real embedding model on this machine's cores: encodes the free-text
histories (1-3 product titles each, from the Office shopper sequences) one call per
history, as a prefork worker does, then from N threads through the SharedEncoder, as N
concurrent jobs of a threads-pool worker do. Prints histories/s and the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.support.events import office_catalog_items, office_sequences  # noqa: E402
from worker.models.embeddings import Embedder  # noqa: E402
from worker.models.encode_batching import SharedEncoder  # noqa: E402
from worker.models.sources import embedding_source  # noqa: E402


def histories(count: int) -> list[list[str]]:
    titles = {item["id"]: item["title"] for item in office_catalog_items()}
    sequences = [s for s in office_sequences().values() if len(s) >= 4][:count]
    return [[titles[i] for i in s[-(1 + n % 3):]] for n, s in enumerate(sequences)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--histories", type=int, default=200)
    parser.add_argument("--threads", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    embedder = Embedder.load(embedding_source(""), "cpu")
    work = histories(args.histories)
    for texts in work[:10]:  # warm up
        embedder.encode(texts)

    started = time.perf_counter()
    for texts in work:
        embedder.encode(texts)
    alone = len(work) / (time.perf_counter() - started)
    print(f"\n{len(work)} free-text histories, all-MiniLM-L6-v2 on {os.cpu_count()} cores")
    print(f"{'callers':>8} | {'histories/s':>11} | {'vs one at a time':>16}")
    print(f"{'1':>8} | {alone:>11.1f} | {1.0:>16.2f}")
    for threads in args.threads:
        shared = SharedEncoder(embedder)
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(shared.encode, work))
        rate = len(work) / (time.perf_counter() - started)
        print(f"{threads:>8} | {rate:>11.1f} | {rate / alone:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
