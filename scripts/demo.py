"""Sample workload through the HTTP API: profile real UCI Online Retail customers, and write
product descriptions and SEO metadata for real Amazon Office products.

Run by scripts/up; on its own: `python scripts/demo.py --key KEY [--customers 12]`.
It uses the client package (clients/python): the profiles and the copy go as two batches,
each with an Idempotency-Key, so running it again replays the same batches instead of
creating new ones, and it waits with the client's long-polls instead of a polling loop.
"""

from __future__ import annotations

import argparse
import csv
import html
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:
    import vitrine_client  # noqa: F401  (installed: pip install ./clients/python)
except ImportError:  # run from a checkout: the client package is in the repository
    sys.path.insert(0, str(ROOT / "clients" / "python"))
from vitrine_client import ValidationError, Vitrine, WaitTimeout  # noqa: E402

DATA = ROOT / "data" / "uci-online-retail"
OFFICE = ROOT / "data" / "amazon-office" / "Office.items.csv"
AS_OF = "2011-12-10T00:00:00Z"  # the day after the last invoice in the data


def load_customers(limit: int) -> dict[str, list[dict]]:
    lines = defaultdict(list)
    with (DATA / "sample_200_customers.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            lines[row["CustomerID"]].append(row)
    chosen = sorted(lines)[:limit]
    return {c: lines[c] for c in chosen}


def to_events(lines: list[dict]) -> list[dict]:
    return [{"type": "purchase", "timestamp": r["InvoiceDate"].replace(" ", "T") + "Z",
             "item_id": r["StockCode"], "title": r["Description"],
             "price": float(r["UnitPrice"]), "quantity": int(r["Quantity"]),
             "order_id": r["InvoiceNo"]} for r in lines]


def office_products(limit: int) -> list[dict]:
    products = []
    with OFFICE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if not (row["brand"] and row["description"]):
                continue
            products.append({
                "title": html.unescape(row["title"])[:300],
                "brand": html.unescape(row["brand"])[:100],
                "category": html.unescape(row["categories"])[:300],
                "description": html.unescape(row["description"])[:5000],
            })
            if len(products) == limit:
                break
    return products


def _show_progress(label: str):
    seen = {"done": -1}

    def show(batch: dict) -> None:
        counts = batch["request_counts"]
        done = counts["succeeded"] + counts["failed"] + counts["canceled"]
        if done != seen["done"]:
            seen["done"] = done
            eta = batch["timings"]["eta_seconds"]
            print(f"    {label}: {done}/{counts['total']} done, {counts['failed']} failed"
                  + (f", ETA {eta:.0f}s" if eta else ""))
    return show


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--customers", type=int, default=12)
    parser.add_argument("--products", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    vitrine = Vitrine(args.api, args.key)
    customers = load_customers(args.customers)
    print(f"==> submitting {len(customers)} user_profile jobs as one batch (real UCI invoices)")
    profile_lines = [{"custom_id": f"customer-{customer}", "type": "user_profile",
                      "input": {"events": to_events(lines), "as_of": AS_OF, "currency": "GBP"}}
                     for customer, lines in customers.items()]
    for customer, lines in customers.items():
        print(f"    customer {customer}: {len(lines):4d} invoice lines")
    # The same key and lines replay the same batch: running the demo again creates nothing.
    profiles = vitrine.batches.create(
        profile_lines, idempotency_key=f"demo-profiles-{len(profile_lines)}")

    products = office_products(args.products)
    print(f"==> submitting {2 * len(products)} generation jobs as one batch (real Amazon Office "
          "products)")
    labels, generation_lines = {}, []
    for index, product in enumerate(products):
        for job_type, options in (("product_description", {"max_words": 50, "seed": index}),
                                  ("seo_metadata", {"seed": index})):
            custom_id = f"{job_type}-{index}"
            labels[custom_id] = f"{job_type}: {product['title'][:50]}"
            generation_lines.append({"custom_id": custom_id, "type": job_type,
                                     "input": {"product": product, "options": options}})
    copy = vitrine.batches.create(generation_lines,
                                  idempotency_key=f"demo-copy-{len(generation_lines)}"
                                  ) if generation_lines else None
    batches = [(b, label) for b, label in ((profiles, "profiles"), (copy, "copy")) if b]

    try:
        vitrine.jobs.create("user_profile", {"events": []})
    except ValidationError as refused:
        print(f"==> an empty history is refused: {refused.status} {refused.details}")

    print("==> waiting for results (the first job waits for the workers to load models)")
    try:
        for batch, label in batches:
            vitrine.batches.wait(batch["id"], timeout=args.timeout,
                                 on_progress=_show_progress(label))
    except WaitTimeout as late:
        print(f"    {late}")
    done = {line["custom_id"]: line for batch, _ in batches
            for line in vitrine.batches.results(batch["id"])}

    print()
    print(f"{'customer':>8} {'segment':<15} {'orders':>6} {'spend £':>9} {'AOV £':>8} "
          f"{'recency d':>9}  top interest tags")
    for customer in customers:
        line = done.get(f"customer-{customer}")
        if not line or line["status"] != "succeeded":
            print(f"{customer:>8} {line['status'] if line else 'unfinished'}")
            continue
        r = line["result"]
        f = r["features"]
        tags = ", ".join(f"{t['tag']} {t['score']:.2f}" for t in r["interest_tags"][:3])
        print(f"{customer:>8} {r['rfm']['segment']:<15} {f['frequency']:>6} {f['monetary']:>9.2f}"
              f" {f['average_order_value']:>8.2f} {f['recency_days']:>9.1f}  {tags}")
    for custom_id, label in labels.items():
        line = done.get(custom_id)
        if not line:
            continue
        print(f"\n{label}  [{line['status']}]")
        result = line["result"] or {}
        if line["status"] != "succeeded":
            error = line["error"] or {"code": line["status"], "message": ""}
            print(f"    {error['code']}: {error['message'][:200]}")
        elif "meta_title" in result:
            print(f"    title: {result['meta_title']}\n    description: "
                  f"{result['meta_description']}\n    keywords: {', '.join(result['keywords'])}"
                  f"\n    slug: {result['slug']}  (source: {result['source']})")
        else:
            print(f"    {result['text']}\n    ({result['model_share']:.0%} of the words by the "
                  "model, every sentence checked against the product's facts)")
    finished = [line for line in done.values() if line["status"] not in ("queued", "running")]
    return 0 if len(finished) == len(profile_lines) + len(generation_lines) else 1


if __name__ == "__main__":
    sys.exit(main())
