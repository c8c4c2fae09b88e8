"""Shopper events built from the real UCI Online Retail invoices in data/."""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data"
UCI_SAMPLE = DATA / "uci-online-retail" / "sample_200_customers.csv"
UCI_PRODUCTS = DATA / "uci-online-retail" / "products.csv"
UCI_AS_OF = "2011-12-10T00:00:00Z"  # the day after the last invoice in the data set


@cache
def uci_invoice_lines() -> dict[str, list[dict[str, str]]]:
    """Invoice lines per customer id, in file order (chronological)."""
    by_customer: dict[str, list[dict[str, str]]] = defaultdict(list)
    with UCI_SAMPLE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            by_customer[row["CustomerID"]].append(row)
    return dict(by_customer)


def purchase_events(lines: list[dict[str, str]]) -> list[dict]:
    return [
        {
            "type": "purchase",
            "timestamp": line["InvoiceDate"].replace(" ", "T"),
            "item_id": line["StockCode"],
            "title": line["Description"],
            "price": float(line["UnitPrice"]),
            "quantity": int(line["Quantity"]),
            "order_id": line["InvoiceNo"],
        }
        for line in lines
    ]


@cache
def uci_products() -> list[dict[str, str]]:
    with UCI_PRODUCTS.open(newline="") as handle:
        return list(csv.DictReader(handle))


OFFICE_ITEMS = DATA / "amazon-office" / "Office.items.csv"


@cache
def office_products() -> list[dict]:
    """Real Amazon Office products as generation `product` objects."""
    import html

    products = []
    with OFFICE_ITEMS.open(newline="") as handle:
        for row in csv.DictReader(handle):
            product = {"title": html.unescape(row["title"])[:300]}
            if row["brand"]:
                product["brand"] = html.unescape(row["brand"])[:100]
            if row["categories"]:
                product["category"] = html.unescape(row["categories"])[:300]
            description = html.unescape(row["description"]).strip()
            if description:
                product["features"] = [description.split(". ")[0][:300]]
            products.append(product)
    return products


@cache
def office_products_with_descriptions() -> list[dict]:
    """Office products that have a description, passed whole as `description`."""
    import html

    products = []
    with OFFICE_ITEMS.open(newline="") as handle:
        for row in csv.DictReader(handle):
            description = html.unescape(row["description"]).strip()
            if len(description) < 80:
                continue
            product = {"title": html.unescape(row["title"])[:300],
                       "description": description[:5000]}
            if row["brand"]:
                product["brand"] = html.unescape(row["brand"])[:100]
            if row["categories"]:
                product["category"] = html.unescape(row["categories"])[:300]
            products.append(product)
    return products


OFFICE_INTERACTIONS = DATA / "amazon-office" / "Office.interactions.csv"


@cache
def office_sequences() -> dict[str, list[str]]:
    """Each shopper's chronological item ids (as strings, the catalog's ids)."""
    sequences: dict[str, list[str]] = defaultdict(list)
    with OFFICE_INTERACTIONS.open(newline="") as handle:
        for row in csv.DictReader(handle):
            sequences[row["user_id"]].append(row["item_id"])
    return dict(sequences)


@cache
def office_catalog_items() -> list[dict]:
    """The Office items as catalog items (popularity: how many shoppers have each)."""
    import html

    counts: dict[str, int] = defaultdict(int)
    for sequence in office_sequences().values():
        for item_id in set(sequence):
            counts[item_id] += 1
    items = []
    with OFFICE_ITEMS.open(newline="") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            title = html.unescape(row["title"])[:500] or f"Office item {row['item_id']}"
            item = {"id": row["item_id"], "title": title,
                    "category": html.unescape(row["categories"])[:500] or None,
                    "description": html.unescape(row["description"])[:2000] or None,
                    "brand": html.unescape(row["brand"])[:200] or None,
                    "price": round(3 + (index * 7919 % 9700) / 100, 2),
                    "in_stock": index % 11 != 0}
            items.append({k: v for k, v in item.items() if v is not None})
    return items


def office_slice(max_item: int) -> tuple[list[dict], dict[str, list[str]]]:
    """Items with id < max_item and each shopper's sequence restricted to them (>= 4 items)."""
    items = [i for i in office_catalog_items() if int(i["id"]) < max_item]
    sequences = {}
    for user, sequence in office_sequences().items():
        kept = [item for item in sequence if int(item) < max_item]
        if len(kept) >= 4:
            sequences[user] = kept
    return items, sequences
