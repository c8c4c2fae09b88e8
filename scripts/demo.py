"""Sample workload through the HTTP API: profile real UCI Online Retail customers, and write
product descriptions and SEO metadata for real Amazon Office products.

Run by scripts/up; on its own: `python scripts/demo.py --key KEY [--customers 12]`.
Each customer is submitted with an Idempotency-Key, so running it again replays the same
jobs instead of creating new ones.
"""

from __future__ import annotations

import argparse
import csv
import html
import sys
import time
from collections import defaultdict
from pathlib import Path

import requests

DATA = Path(__file__).resolve().parent.parent / "data" / "uci-online-retail"
OFFICE = Path(__file__).resolve().parent.parent / "data" / "amazon-office" / "Office.items.csv"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--customers", type=int, default=12)
    parser.add_argument("--products", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {args.key}"
    customers = load_customers(args.customers)
    print(f"==> submitting {len(customers)} user_profile jobs (real UCI invoices)")
    jobs, profiles = {}, {}
    for customer, lines in customers.items():
        response = http.post(
            f"{args.api}/v1/jobs",
            json={"type": "user_profile", "priority": 5, "input": {
                "events": to_events(lines), "as_of": AS_OF, "currency": "GBP"}},
            headers={"Idempotency-Key": f"demo-profile-{customer}"}, timeout=30,
        )
        response.raise_for_status()
        jobs[response.json()["id"]] = f"customer {customer}"
        profiles[response.json()["id"]] = customer
        print(f"    customer {customer}: {len(lines):4d} invoice lines -> job "
              f"{response.json()['id']} ({response.json()['status']})")

    products = office_products(args.products)
    print(f"==> submitting {2 * len(products)} generation jobs (real Amazon Office products)")
    for index, product in enumerate(products):
        for job_type, options in (("product_description", {"max_words": 50, "seed": index}),
                                  ("seo_metadata", {"seed": index})):
            response = http.post(
                f"{args.api}/v1/jobs",
                json={"type": job_type, "input": {"product": product, "options": options}},
                headers={"Idempotency-Key": f"demo-{job_type}-{index}"}, timeout=30)
            response.raise_for_status()
            jobs[response.json()["id"]] = f"{job_type}: {product['title'][:50]}"

    bad = http.post(f"{args.api}/v1/jobs", json={"type": "user_profile",
                                                 "input": {"events": []}}, timeout=30)
    print(f"==> an empty history is refused: {bad.status_code} {bad.json()['error']['details']}")

    print("==> waiting for results (the first job waits for the workers to load models)")
    done: dict[str, dict] = {}
    deadline = time.monotonic() + args.timeout
    while len(done) < len(jobs) and time.monotonic() < deadline:
        for job_id in [j for j in jobs if j not in done]:
            job = http.get(f"{args.api}/v1/jobs/{job_id}", timeout=30).json()
            if job["status"] in {"succeeded", "failed", "canceled"}:
                done[job_id] = job
                print(f"    [{len(done):2d}/{len(jobs)}] {jobs[job_id]} {job['status']}"
                      f" (queued {job['timings']['queue_seconds']:.1f}s,"
                      f" ran {job['timings']['run_seconds'] or 0:.2f}s)")
        time.sleep(0.5)

    print()
    print(f"{'customer':>8} {'segment':<15} {'orders':>6} {'spend £':>9} {'AOV £':>8} "
          f"{'recency d':>9}  top interest tags")
    for job_id, customer in profiles.items():
        job = done.get(job_id)
        if not job or job["status"] != "succeeded":
            print(f"{customer:>8} {job['status'] if job else 'unfinished'}")
            continue
        f, r = job["result"]["features"], job["result"]
        tags = ", ".join(f"{t['tag']} {t['score']:.2f}" for t in r["interest_tags"][:3])
        print(f"{customer:>8} {r['rfm']['segment']:<15} {f['frequency']:>6} {f['monetary']:>9.2f}"
              f" {f['average_order_value']:>8.2f} {f['recency_days']:>9.1f}  {tags}")
    for job_id, label in jobs.items():
        job = done.get(job_id)
        if job_id in profiles or not job:
            continue
        print(f"\n{label}  [{job['status']}]")
        result = job["result"] or {}
        if job["status"] != "succeeded":
            print(f"    {job['error']['code']}: {job['error']['message'][:200]}")
        elif "meta_title" in result:
            print(f"    title: {result['meta_title']}\n    description: "
                  f"{result['meta_description']}\n    keywords: {', '.join(result['keywords'])}"
                  f"\n    slug: {result['slug']}  (source: {result['source']})")
        else:
            print(f"    {result['text']}\n    ({result['model_share']:.0%} of the words by the "
                  "model, every sentence checked against the product's facts)")
    return 0 if len(done) == len(jobs) else 1


if __name__ == "__main__":
    sys.exit(main())
