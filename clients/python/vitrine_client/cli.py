"""`vitrine`: jobs and batches from the command line (`pip install 'vitrine-client[cli]'`).

The API's URL and key come from --url/--key, else VITRINE_URL/VITRINE_API_KEY, else the
config file (VITRINE_CONFIG, default ~/.config/vitrine/config.toml: `url = "..."`,
`api_key = "..."`).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

try:
    import click
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
except ImportError as missing:  # the client itself needs only httpx
    raise SystemExit(f"the vitrine CLI needs the cli extra: pip install 'vitrine-client[cli]' "
                     f"({missing})") from None

from vitrine_client import batch_run
from vitrine_client.client import Vitrine
from vitrine_client.csv_lines import lines_from_csv, parse_mapping
from vitrine_client.errors import VitrineError

DEFAULT_CONFIG = Path("~/.config/vitrine/config.toml")
console = Console(stderr=True)


def _config() -> dict[str, Any]:
    path = Path(os.environ.get("VITRINE_CONFIG", DEFAULT_CONFIG)).expanduser()
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _echo(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


class _DefaultCommandGroup(click.Group):
    """`vitrine batch FILE ...` runs `batch run FILE ...`; named subcommands still work."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


@click.group()
@click.option("--url", envvar="VITRINE_URL", help="API base URL (env VITRINE_URL).")
@click.option("--key", envvar="VITRINE_API_KEY", help="API key (env VITRINE_API_KEY).")
@click.pass_context
def main(ctx: click.Context, url: str | None, key: str | None) -> None:
    """Submit and follow Vitrine jobs and batches."""
    config = _config()
    url, key = url or config.get("url"), key or config.get("api_key")
    if not url or not key:
        raise click.UsageError("give the API's URL and key: --url/--key, VITRINE_URL/"
                               "VITRINE_API_KEY, or url/api_key in the config file")
    ctx.obj = Vitrine(url, key)
    ctx.call_on_close(ctx.obj.close)


@main.group()
def jobs() -> None:
    """One job at a time."""


@jobs.command("submit")
@click.argument("job_type")
@click.option("--input", "input_", required=True,
              help="The input as JSON, or @FILE to read it from a file.")
@click.option("--priority", type=click.IntRange(0, 9))
@click.option("--idempotency-key")
@click.option("--wait", is_flag=True, help="Wait for the job to end and print it.")
@click.pass_obj
def jobs_submit(vitrine: Vitrine, job_type: str, input_: str, priority: int | None,
                idempotency_key: str | None, wait: bool) -> None:
    text = Path(input_[1:]).read_text() if input_.startswith("@") else input_
    job = vitrine.jobs.create(job_type, json.loads(text), priority=priority,
                              idempotency_key=idempotency_key)
    _echo(vitrine.jobs.wait(job["id"]) if wait else job)


@jobs.command("get")
@click.argument("job_id")
@click.option("--wait", type=click.FloatRange(0, 60), help="Hold up to this many seconds.")
@click.pass_obj
def jobs_get(vitrine: Vitrine, job_id: str, wait: float | None) -> None:
    _echo(vitrine.jobs.get(job_id, wait=wait))


@jobs.command("wait")
@click.argument("job_id")
@click.option("--timeout", type=float)
@click.pass_obj
def jobs_wait(vitrine: Vitrine, job_id: str, timeout: float | None) -> None:
    _echo(vitrine.jobs.wait(job_id, timeout=timeout))


@jobs.command("cancel")
@click.argument("job_id")
@click.pass_obj
def jobs_cancel(vitrine: Vitrine, job_id: str) -> None:
    _echo(vitrine.jobs.cancel(job_id))


@jobs.command("list")
@click.option("--type", "job_type")
@click.option("--status")
@click.option("--limit", type=click.IntRange(1, 100), default=20)
@click.pass_obj
def jobs_list(vitrine: Vitrine, job_type: str | None, status: str | None, limit: int) -> None:
    for job in vitrine.jobs.list(type=job_type, status=status, limit=limit)["jobs"]:
        click.echo(f"{job['id']}  {job['type']:<20} {job['status']:<10} "
                   f"{job['timings']['created_at']}")


@main.group(cls=_DefaultCommandGroup)
def batch() -> None:
    """Many jobs at once: `vitrine batch FILE --out results.jsonl ...`."""


def _follow(run: batch_run.BatchRun, work, quiet: bool) -> batch_run.Progress:
    if quiet:
        return work()
    columns = [TextColumn("[bold]batch"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TextColumn("failed {task.fields[failed]}"), TextColumn("ETA {task.fields[eta]}"),
               TimeElapsedColumn()]
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("batch", total=None, failed=0, eta="?")

        def show(progress: batch_run.Progress) -> None:
            eta = "?" if progress.eta_s is None else f"{progress.eta_s:.0f}s"
            bar.update(task, total=progress.total, completed=progress.done,
                       failed=progress.failed, eta=eta)

        run.on_progress = show
        return work()


def _summary(run: batch_run.BatchRun, progress: batch_run.Progress) -> None:
    console.print(f"{progress.done}/{progress.total} done, {progress.failed} failed, "
                  f"{len(run.invalid)} refused lines; results in {run.files.out}"
                  + (f", refused lines in {run.files.errors_path}" if run.invalid else ""))
    if progress.failed:
        console.print(f"re-run the failed ones: vitrine batch retry-failed --out {run.files.out}")


@batch.command("run")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Results (JSONL); re-running skips the lines already in it.")
@click.option("--type", "job_type", help="Job type of every CSV row.")
@click.option("--map", "mapping", help="FIELD=COLUMN[:float|int|list],... for CSV files.")
@click.option("--id-column", help="CSV column with each row's custom_id.")
@click.option("--set", "constants", multiple=True, help="FIELD=JSON, the same in every row.")
@click.option("--webhook-url", help="Receives the batch's `completed` event.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def batch_run_command(vitrine: Vitrine, source: Path, out: Path, job_type: str | None,
                      mapping: str | None, id_column: str | None, constants: tuple[str, ...],
                      webhook_url: str | None, quiet: bool) -> None:
    """Run every line of SOURCE (a .jsonl of {custom_id, type, input} or a CSV)."""
    if source.suffix.lower() in (".jsonl", ".ndjson"):
        lines = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    else:
        if not job_type or not mapping:
            raise click.UsageError("a CSV needs --type and --map")
        fixed = {}
        for item in constants:
            name, _, value = item.partition("=")
            try:
                fixed[name] = json.loads(value)
            except ValueError:
                fixed[name] = value  # a bare word is a string
        try:
            lines = lines_from_csv(source, job_type=job_type, mapping=parse_mapping(mapping),
                                   id_column=id_column, constants=fixed)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    run = batch_run.BatchRun(vitrine, out)
    progress = _follow(run, lambda: run.run(lines, webhook_url=webhook_url), quiet)
    _summary(run, progress)
    sys.exit(1 if progress.failed or run.invalid else 0)


@batch.command("retry-failed")
@click.option("--out", required=True, type=click.Path(exists=True, dir_okay=False,
                                                      path_type=Path))
@click.option("--quiet", is_flag=True)
@click.pass_obj
def batch_retry_failed(vitrine: Vitrine, out: Path, quiet: bool) -> None:
    """Submit the failed lines of the run whose results are in --out again."""
    run = batch_run.BatchRun(vitrine, out)
    progress = _follow(run, run.retry_failed, quiet)
    _summary(run, progress)
    sys.exit(1 if progress.failed else 0)


@batch.command("get")
@click.argument("batch_id")
@click.pass_obj
def batch_get(vitrine: Vitrine, batch_id: str) -> None:
    _echo(vitrine.batches.get(batch_id))


@batch.command("cancel")
@click.argument("batch_id")
@click.pass_obj
def batch_cancel(vitrine: Vitrine, batch_id: str) -> None:
    _echo(vitrine.batches.cancel(batch_id))


def run() -> None:
    try:
        main(standalone_mode=True)
    except VitrineError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
