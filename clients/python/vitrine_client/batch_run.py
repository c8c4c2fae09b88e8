"""A batch run the CLI can resume: results land in `--out` as they finish, and a re-run skips
every line already there (by custom_id) and re-attaches to batches still in progress.

Next to the results file: `<out>.state` (the ids of the batches this run submitted, and which
of them were retried) and `<out>.errors.jsonl` (the lines the API refused up front). A batch
is created with an Idempotency-Key made from the lines it carries, so a run interrupted
between the API accepting a batch and the state file recording it submits nothing twice:
the re-run sends the same lines with the same key and gets the same batch back.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vitrine_client._calls import batch_ended
from vitrine_client.client import Vitrine

TERMINAL = ("succeeded", "failed", "canceled")
RESULTS_EVERY_S = 5.0


@dataclass
class Progress:
    total: int
    done: int = 0
    failed: int = 0
    invalid: int = 0
    eta_s: float | None = None


@dataclass
class RunFiles:
    out: Path
    state: dict[str, Any] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, out: str | Path) -> RunFiles:
        files = cls(Path(out))
        if files.state_path.exists():
            files.state = json.loads(files.state_path.read_text())
        files.state.setdefault("batches", [])
        files.state.setdefault("retried", [])
        if files.out.exists():
            for line in files.out.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    files.results[record["custom_id"]] = record  # the last record wins
        return files

    @property
    def state_path(self) -> Path:
        return self.out.with_name(self.out.name + ".state")

    @property
    def errors_path(self) -> Path:
        return self.out.with_name(self.out.stem + ".errors.jsonl")

    def save_state(self) -> None:
        temporary = self.state_path.with_name(self.state_path.name + ".tmp")
        temporary.write_text(json.dumps(self.state))
        temporary.replace(self.state_path)

    def record(self, records: Iterable[dict[str, Any]]) -> int:
        """Append results not recorded yet (or whose status changed); how many."""
        fresh = [r for r in records if r["status"] in TERMINAL
                 and self.results.get(r["custom_id"], {}).get("job_id") != r["job_id"]]
        if fresh:
            with self.out.open("a") as handle:
                for record in fresh:
                    handle.write(json.dumps(record, separators=(",", ":")) + "\n")
                    self.results[record["custom_id"]] = record
        return len(fresh)

    def write_errors(self, invalid: list[dict[str, Any]]) -> None:
        with self.errors_path.open("w") as handle:
            for record in invalid:
                handle.write(json.dumps(record, separators=(",", ":")) + "\n")


def _key(lines: list[Mapping[str, Any]]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(json.dumps(line, sort_keys=True).encode() + b"\n")
    return f"vitrine-cli-{digest.hexdigest()[:48]}"


class BatchRun:
    """Submit what is not done yet, follow the batches, write results as they come."""

    def __init__(self, vitrine: Vitrine, out: str | Path, *,
                 on_progress: Callable[[Progress], None] | None = None,
                 poll_s: float = 1.0) -> None:
        self.vitrine, self.files = vitrine, RunFiles.open(out)
        self.on_progress, self.poll_s = on_progress or (lambda progress: None), poll_s
        self.invalid: list[dict[str, Any]] = []

    def run(self, lines: list[Mapping[str, Any]], **options: Any) -> Progress:
        """Every line ends up in the results file (or the errors file if refused)."""
        wanted = {line["custom_id"] for line in lines}
        live = self._reattach()
        pending = set().union(*live.values()) if live else set()
        todo = [line for line in lines if line["custom_id"] not in pending
                and self.files.results.get(line["custom_id"], {}).get("status") not in TERMINAL]
        if todo:
            batch = self.vitrine.batches.create(todo, idempotency_key=_key(todo), **options)
            self._remember(batch["id"])
            live[batch["id"]] = {line["custom_id"] for line in todo}
            invalid_ids = self._collect_invalid(batch["id"])
            live[batch["id"]] -= invalid_ids
        self.files.write_errors(self.invalid)
        return self._follow(live, wanted)

    def retry_failed(self) -> Progress:
        """Re-run the failed lines of every batch of this run not retried yet."""
        live: dict[str, set[str]] = {}
        for batch_id in list(self.files.state["batches"]):
            if batch_id in self.files.state["retried"]:
                continue
            failed = {cid for cid, r in self.files.results.items()
                      if r["status"] == "failed" and r.get("batch_id") == batch_id}
            if not failed:
                continue
            batch = self.vitrine.batches.retry(batch_id)
            self.files.state["retried"].append(batch_id)
            self._remember(batch["id"])
            live[batch["id"]] = failed
        wanted = set().union(*live.values()) if live else set()
        return self._follow(live, wanted)

    def _remember(self, batch_id: str) -> None:
        if batch_id not in self.files.state["batches"]:
            self.files.state["batches"].append(batch_id)
        self.files.save_state()

    def _collect_invalid(self, batch_id: str) -> set[str]:
        invalid = list(self.vitrine.batches.results(batch_id, status="invalid"))
        self.invalid += invalid
        return {r["custom_id"] for r in invalid if r["custom_id"]}

    def _reattach(self) -> dict[str, set[str]]:
        """Batches of an earlier run still in progress: their finished lines are recorded,
        the others are waited for, not submitted again."""
        live: dict[str, set[str]] = {}
        for batch_id in self.files.state["batches"]:
            records = list(self.vitrine.batches.results(batch_id))
            self._record(batch_id, records)
            if any(r["status"] in ("queued", "running") for r in records):
                live[batch_id] = {r["custom_id"] for r in records if r["status"] != "invalid"}
        return live

    def _record(self, batch_id: str, records: Iterable[dict[str, Any]]) -> None:
        self.files.record({**r, "batch_id": batch_id} for r in records
                          if r["status"] != "invalid")

    def _progress(self, wanted: set[str], live: dict[str, set[str]],
                  batches: dict[str, dict[str, Any]]) -> Progress:
        following = set().union(*live.values()) if live else set()
        earlier = [self.files.results[c] for c in wanted - following if c in self.files.results]
        progress = Progress(total=len(wanted), invalid=len(self.invalid))
        progress.done = len(earlier) + sum(
            sum(b["request_counts"][s] for s in TERMINAL) for b in batches.values())
        progress.failed = sum(r["status"] == "failed" for r in earlier) + sum(
            b["request_counts"]["failed"] for b in batches.values())
        etas = [b["timings"]["eta_seconds"] for b in batches.values()
                if not batch_ended(b)]
        progress.eta_s = max(etas) if etas and None not in etas else (0.0 if not etas else None)
        progress.total -= sum(1 for r in self.invalid if r["custom_id"] in wanted)
        return progress

    def _follow(self, live: dict[str, set[str]], wanted: set[str]) -> Progress:
        batches: dict[str, dict[str, Any]] = {}
        fetched_at = time.monotonic()
        while True:
            for batch_id in live:
                batch = batches.get(batch_id)
                if batch is None or not batch_ended(batch):
                    batches[batch_id] = self.vitrine.batches.get(batch_id, wait=self.poll_s)
            progress = self._progress(wanted, live, batches)
            self.on_progress(progress)
            ended = all(batch_ended(b) for b in batches.values())
            if ended or time.monotonic() - fetched_at >= RESULTS_EVERY_S:
                for batch_id in live:
                    self._record(batch_id, self.vitrine.batches.results(
                        batch_id, status=TERMINAL))
                fetched_at = time.monotonic()
            if ended:
                return progress
