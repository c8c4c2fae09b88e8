"""The `vitrine` CLI as a user runs it (a subprocess against gunicorn and real workers):
an interrupted batch run resumes without submitting anything twice, retry-failed re-runs
exactly the failed lines; and the client installs into a fresh venv with only its own
dependencies and works against the stack."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.models import Job
from tests.support.processes import wait_for
from vitrine_client.csv_lines import lines_from_rows, parse_mapping

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
CLI = [sys.executable, "-c", "from vitrine_client.cli import run; run()"]


def _env(live) -> dict[str, str]:
    stack, server = live
    return dict(os.environ, PYTHONPATH=str(CLIENT), VITRINE_URL=server.url,
                VITRINE_API_KEY=stack.key(), VITRINE_CONFIG="/nonexistent")


def _latest(out: Path) -> dict[str, dict]:
    latest = {}
    for line in out.read_text().splitlines():
        record = json.loads(line)
        latest[record["custom_id"]] = record
    return latest


def _jobs_named(stack, prefix: str) -> int:
    with stack.db.session() as session:
        return session.scalar(select(func.count()).select_from(Job).where(
            Job.custom_id.like(f"{prefix}%")))


def test_an_interrupted_run_resumes_without_duplicates(live, tmp_path):
    stack, _ = live
    prefix = f"nap-{uuid.uuid4().hex[:6]}-"
    source, out = tmp_path / "naps.csv", tmp_path / "results.jsonl"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "Secs"])
        writer.writerows([f"{prefix}{n:02d}", "0.4"] for n in range(30))
    command = [*CLI, "batch", str(source), "--type", "diag_sleep", "--map", "seconds=Secs:float",
               "--out", str(out), "--quiet"]
    first = subprocess.Popen(command, env=_env(live), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    state = out.with_name(out.name + ".state")
    wait_for(lambda: out.exists() and out.read_text().count("\n") >= 1, 60,
             what="the first results in the file")
    first.send_signal(signal.SIGINT)  # the user's ^C, half-way
    first.wait(timeout=30)
    written = len(_latest(out))
    assert 1 <= written < 30, "interrupted before the end"
    batches = json.loads(state.read_text())["batches"]
    assert len(batches) == 1

    again = subprocess.run(command, env=_env(live), capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stdout + again.stderr
    latest = _latest(out)
    assert sorted(latest) == [f"{prefix}{n:02d}" for n in range(30)]
    assert {r["status"] for r in latest.values()} == {"succeeded"}
    assert json.loads(state.read_text())["batches"] == batches  # re-attached, not re-sent
    assert _jobs_named(stack, prefix) == 30
    assert "30/30 done, 0 failed" in again.stderr

    third = subprocess.run(command, env=_env(live), capture_output=True, text=True, timeout=60)
    assert third.returncode == 0 and _jobs_named(stack, prefix) == 30


def test_retry_failed_reruns_exactly_the_failed_lines(live, tmp_path):
    stack, _ = live
    prefix = f"mix-{uuid.uuid4().hex[:6]}-"
    failing = {f"{prefix}03", f"{prefix}07"}
    source, out = tmp_path / "lines.jsonl", tmp_path / "out.jsonl"
    lines = [{"custom_id": f"{prefix}{n:02d}", "type": "echo", "input": {"text": f"t{n}"}}
             for n in range(10)]
    for line in lines:
        if line["custom_id"] in failing:
            line.update(type="diag_raise", input={"message": "planted"})
    lines.append({"custom_id": f"{prefix}bad", "type": "echo", "input": {"text": ""}})
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    run = subprocess.run([*CLI, "batch", str(source), "--out", str(out), "--quiet"],
                         env=_env(live), capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr  # some failed
    latest = _latest(out)
    assert {c for c, r in latest.items() if r["status"] == "failed"} == failing
    assert len(latest) == 10
    errors = [json.loads(line) for line in
              out.with_name("out.errors.jsonl").read_text().splitlines()]
    assert [e["custom_id"] for e in errors] == [f"{prefix}bad"]
    assert errors[0]["error"]["details"][0]["path"] == "input.text"

    retried = subprocess.run([*CLI, "batch", "retry-failed", "--out", str(out), "--quiet"],
                             env=_env(live), capture_output=True, text=True, timeout=120)
    assert "2/2 done, 2 failed" in retried.stderr, retried.stderr
    state = json.loads(out.with_name("out.jsonl.state").read_text())
    assert len(state["batches"]) == 2
    assert _jobs_named(stack, prefix) == 12  # 10 + the 2 failed ones again, nothing else
    after = _latest(out)
    assert {c for c, r in after.items() if r["batch_id"] == state["batches"][1]} == failing


def test_csv_columns_map_to_input_fields():
    rows = [{"SKU": "A-1", "Name": "Desk lamp", "Body": "Brass, 40 cm.", "Price": "19.5",
             "Bullets": "LED | dimmable"},
            {"SKU": "", "Name": "Mug", "Body": "", "Price": "", "Bullets": ""}]
    mapping = parse_mapping("title=Name,description=Body,price=Price:float,"
                            "features=Bullets:list")
    lines = list(lines_from_rows(rows, job_type="product_description", mapping=mapping,
                                 constants={"options.tone": "playful"}))
    assert lines[0] == {"custom_id": "A-1", "type": "product_description", "input": {
        "options": {"tone": "playful"},
        "product": {"title": "Desk lamp", "description": "Brass, 40 cm.", "price": 19.5,
                    "features": ["LED", "dimmable"]}}}
    assert lines[1]["custom_id"] == "row-2" and lines[1]["input"]["product"] == {"title": "Mug"}
    with pytest.raises(ValueError, match="not in the file"):
        list(lines_from_rows(rows, job_type="echo", mapping={"text": "Nope"}))


@pytest.mark.slow
def test_the_client_installs_alone_and_runs_against_the_stack(live, tmp_path):
    stack, server = live
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", f"{CLIENT}[cli]"],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    installed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"],
                               capture_output=True, text=True, check=True).stdout
    names = {p["name"].lower() for p in json.loads(installed)}
    assert "vitrine-client" in names and "httpx" in names
    assert not names & {"flask", "celery", "sqlalchemy", "psycopg", "gunicorn", "torch",
                        "pydantic", "vitrine"}
    script = (
        "import sys\n"
        "from vitrine_client import Vitrine\n"
        "v = Vitrine(sys.argv[1], sys.argv[2])\n"
        "job = v.jobs.wait(v.jobs.create('echo', {'text': 'from a fresh venv'})['id'],"
        " timeout=60)\n"
        "print(job['status'], job['result']['echo'])\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    ran = subprocess.run([str(python), "-c", script, server.url, stack.key()], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert ran.stdout.strip() == "succeeded from a fresh venv", ran.stderr
    cli = subprocess.run([str(venv / "bin" / "vitrine"), "jobs", "submit", "echo", "--input",
                          '{"text": "cli"}', "--wait"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120,
                         env=dict(env, VITRINE_URL=server.url, VITRINE_API_KEY=stack.key()))
    assert json.loads(cli.stdout)["result"] == {"echo": "cli"}, cli.stderr
