"""Batch lines from a CSV file: `--map title=Name,description=Body` names, for each input
field, the column it comes from.

A field is an input path (`options.tone`); for job types whose input is about one `product`
(product_description, seo_metadata) a bare name is a product field (`title` is
`product.title`). A column may carry a type: `price=Price:float`, `quantity=Qty:int`,
`features=Bullets:list` (split on `|`). Empty cells are left out. Each line's custom_id is the
`--id-column` (default: a column named `id` or `sku` if there is one, else `row-N`, N the
data row's number), so the same file gives the same ids on every run (resuming relies on it).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

PRODUCT_TYPES = frozenset({"product_description", "seo_metadata"})
_CONVERT = {"str": str, "float": float, "int": int,
            "list": lambda text: [part.strip() for part in text.split("|") if part.strip()]}


def parse_mapping(text: str) -> dict[str, str]:
    """'title=Name,description=Body' -> {'title': 'Name', 'description': 'Body'}."""
    mapping = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ValueError(f"mapping {pair!r} is not FIELD=COLUMN")
        mapping[field.strip()] = column.strip()
    return mapping


def _path(job_type: str, field: str) -> list[str]:
    if "." not in field and job_type in PRODUCT_TYPES:
        return ["product", field]
    return field.split(".")


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def lines_from_rows(rows: list[Mapping[str, str]], *, job_type: str, mapping: Mapping[str, str],
                    id_column: str | None = None, constants: Mapping[str, Any] | None = None,
                    priority: int | None = None) -> Iterator[dict[str, Any]]:
    columns = list(rows[0].keys()) if rows else []
    if id_column is None:
        id_column = next((c for c in columns if c.lower() in ("id", "sku")), None)
    parsed = {}
    for field, spec in mapping.items():
        column, _, kind = spec.partition(":")
        if columns and column not in columns:
            raise ValueError(f"column {column!r} (for {field}) is not in the file; it has: "
                             f"{', '.join(columns)}")
        if kind and kind not in _CONVERT:
            raise ValueError(f"type {kind!r} of {field} is not one of {', '.join(_CONVERT)}")
        parsed[field] = (column, _CONVERT[kind or "str"])
    for number, row in enumerate(rows, start=1):
        job_input: dict[str, Any] = {}
        for field, value in (constants or {}).items():
            _put(job_input, _path(job_type, field), value)
        for field, (column, convert) in parsed.items():
            cell = (row.get(column) or "").strip()
            if cell:
                try:
                    value = convert(cell)
                except ValueError:
                    value = cell  # the server names the field and what it accepts
                _put(job_input, _path(job_type, field), value)
        custom_id = (row.get(id_column) or "").strip() if id_column else ""
        line = {"custom_id": custom_id or f"row-{number}", "type": job_type,
                "input": job_input}
        if priority is not None:
            line["priority"] = priority
        yield line


def lines_from_csv(path: str | Path, **options: Any) -> list[dict[str, Any]]:
    """Every data row of the CSV as a batch line (see the module docstring)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return list(lines_from_rows(rows, **options))
