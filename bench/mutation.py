"""Mutation check: does a test fail when a line behind a README promise is broken?

For each module below, every statement on the chosen lines is deleted (replaced by `pass`)
and every comparison, condition, `and`/`or` and boolean constant is negated, one at a time.
A mutant is *killed* when the module's focused tests fail (or hang past the per-mutant
timeout); it *survives* when they pass. Survivors are printed with their line.

Why a script and not mutmut/cosmic-ray: both want to copy or instrument the tree and run the
whole test command per mutant; here a pytest start costs ~9 s of imports on a shared 2-core
box. This script imports everything once, then forks one child per mutant: the child swaps
the mutated code objects into the already-imported functions (so every `from x import f`
sees the mutant too), writes the mutated file to disk (for worker subprocesses the tests
start), runs pytest in process and reports its exit status. The parent restores the file.

Run it on a copy of the tree, never on a worktree being edited (a killed run could leave a
mutated file behind; it restores in `finally`, but a copy costs nothing):

    rm -rf /tmp/mut && mkdir /tmp/mut && git archive HEAD | tar -x -C /tmp/mut
    ln -s "$PWD/.venv" /tmp/mut/.venv && cd /tmp/mut
    nice -n 10 .venv/bin/python bench/mutation.py [module ...] [--list]
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import re
import signal
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# module -> (lines the README makes promises about, None for all; focused test files).
# Line ranges are inclusive and name the promise each guards.
TARGETS: dict[str, tuple[list[tuple[int, int]] | None, list[str]]] = {
    # The guard itself: every line is the promise.
    "shared/ssrf.py": (None, [
        "tests/api/test_webhook_guard.py", "tests/worker/test_webhook_delivery.py"]),
    # Pinned connections, no redirects, one deadline.
    "worker/webhooks/sender.py": (None, ["tests/worker/test_webhook_delivery.py"]),
    # Claiming, outcomes, retry schedule, 410, refused addresses, released senders.
    "worker/webhooks/delivery.py": (None, [
        "tests/worker/test_webhook_delivery.py", "tests/shared/test_delivery_status.py"]),
    # Conditional updates, takeover, progress, the lost-run rule, delivery updates.
    "shared/lifecycle.py": (None, [
        "tests/shared/test_status.py", "tests/shared/test_delivery_status.py",
        "tests/worker/test_runner.py",
        "tests/worker/test_sweeper.py", "tests/worker/test_webhook_delivery.py"]),
    # run, claim, lost runs, outcomes (not the contention retry's back-off).
    "worker/runner.py": ([(68, 117), (131, 209)], ["tests/worker/test_runner.py"]),
    # Re-sending queued and stale jobs, the backlog rule, deliveries; not catalog embedding.
    "worker/sweeper.py": ([(49, 138), (157, 188)], [
        "tests/worker/test_sweeper.py", "tests/worker/test_webhook_delivery.py"]),
    # create_job and cancel_job with the idempotency key (validation is other tests' work).
    "api/jobs.py": ([(88, 219)], [
        "tests/api/test_jobs_api.py", "tests/api/test_errors.py",
        "tests/api/test_cli_and_concurrency.py"]),
    "worker/generation/checks.py": (None, ["tests/worker/test_checks.py"]),
}

# Model-heavy tests are too slow to run per mutant; the PostgreSQL variants run the same
# assertions again (`--markers "not slow"` includes them).
MARKERS = "not slow and not postgres"

NEGATED_OPS = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt,
               ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In,
               ast.Is: ast.IsNot, ast.IsNot: ast.Is}


@dataclass(frozen=True)
class Mutant:
    line: int
    kind: str          # delete | negate-compare | negate-condition | swap-boolop | flip-constant
    path: tuple        # how to find the node again in a fresh tree
    text: str          # the original source of the node, shortened


def _walk_with_paths(node, path=()):
    yield node, path
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield from _walk_with_paths(item, (*path, field, index))
        elif isinstance(value, ast.AST):
            yield from _walk_with_paths(value, (*path, field))


def _follow(tree, path):
    node = tree
    for step in path:
        node = node[step] if isinstance(step, int) else getattr(node, step)
    return node


def _in_function(tree, path) -> bool:
    """Mutate only code inside functions: module-level code runs once at import."""
    node = tree
    for step in path:
        node = node[step] if isinstance(step, int) else getattr(node, step)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return True
    return False


def _is_docstring(node, parent_body) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str) and parent_body and parent_body[0] is node)


def _is_logging(node) -> bool:
    """A log line is no promise; deleting it is a mutant no test should need to kill."""
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and ast.unparse(node.value.func.value) in {"log", "logger", "current_app.logger"})


def mutants_of(source: str, lines: list[tuple[int, int]] | None) -> list[Mutant]:
    tree = ast.parse(source)
    found: list[Mutant] = []

    def wanted(node) -> bool:
        line = getattr(node, "lineno", None)
        return line is not None and (lines is None or any(a <= line <= b for a, b in lines))

    def short(node) -> str:
        text = ast.unparse(node).splitlines()[0]
        return text[:70]

    for node, path in _walk_with_paths(tree):
        if not wanted(node) or not _in_function(tree, path):
            continue
        if isinstance(node, ast.stmt) and not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Pass
                | ast.Import | ast.ImportFrom | ast.Global | ast.Nonlocal):
            parent = _follow(tree, path[:-1]) if path and isinstance(path[-1], int) else None
            if not _is_docstring(node, parent) and not _is_logging(node):
                found.append(Mutant(node.lineno, "delete", path, short(node)))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and \
                type(node.ops[0]) in NEGATED_OPS:
            found.append(Mutant(node.lineno, "negate-compare", path, short(node)))
        if isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert) and \
                not isinstance(node.test, ast.Compare):
            found.append(Mutant(node.lineno, "negate-condition", path, short(node.test)))
        if isinstance(node, ast.comprehension):
            for index, condition in enumerate(node.ifs):
                found.append(Mutant(condition.lineno, "negate-condition",
                                    (*path, "ifs", index), short(condition)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            found.append(Mutant(node.lineno, "drop-not", path, short(node)))
        if isinstance(node, ast.BoolOp):
            found.append(Mutant(node.lineno, "swap-boolop", path, short(node)))
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            found.append(Mutant(node.lineno, "flip-constant", path, short(node)))
    return found


def _replace(tree, path, new) -> None:
    if isinstance(path[-1], int):
        getattr(_follow(tree, path[:-2]), path[-2])[path[-1]] = new
    else:
        setattr(_follow(tree, path[:-1]), path[-1], new)


def apply(source: str, mutant: Mutant) -> str:
    tree = ast.parse(source)
    node = _follow(tree, mutant.path)
    if mutant.kind == "delete":
        _replace(tree, mutant.path, ast.copy_location(ast.Pass(), node))
    elif mutant.kind == "negate-compare":
        node.ops = [NEGATED_OPS[type(node.ops[0])]()]
    elif mutant.kind == "negate-condition":
        if isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert):
            node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
        else:  # a comprehension's `if`
            _replace(tree, mutant.path, ast.UnaryOp(op=ast.Not(), operand=node))
    elif mutant.kind == "drop-not":
        _replace(tree, mutant.path, node.operand)
    elif mutant.kind == "swap-boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif mutant.kind == "flip-constant":
        node.value = not node.value
    ast.fix_missing_locations(tree)
    return ast.unparse(tree)


def _functions(module) -> dict[str, types.FunctionType]:
    """Every function defined in `module`, by qualified name (methods and wrapped ones too)."""
    found: dict[str, types.FunctionType] = {}

    def visit(obj, seen):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        while hasattr(obj, "__wrapped__"):
            visit_function(obj)
            obj = obj.__wrapped__
        if isinstance(obj, staticmethod | classmethod):
            obj = obj.__func__
        if isinstance(obj, property):
            for part in (obj.fget, obj.fset, obj.fdel):
                if part is not None:
                    visit_function(part)
            return
        if isinstance(obj, types.FunctionType):
            visit_function(obj)
        elif isinstance(obj, type) and obj.__module__ == module.__name__:
            for value in vars(obj).values():
                visit(value, seen)

    def visit_function(function):
        if isinstance(function, types.FunctionType) and \
                function.__code__.co_filename == module.__file__:
            found[function.__code__.co_qualname] = function

    seen: set[int] = set()
    for value in list(vars(module).values()):
        visit(value, seen)
    return found


def _codes(code: types.CodeType) -> dict[str, types.CodeType]:
    found = {code.co_qualname: code}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.update(_codes(const))
    return found


def swap_in(module, mutated_source: str) -> int:
    """Put the mutated code into the live functions; returns how many were swapped."""
    compiled = _codes(compile(mutated_source, module.__file__, "exec"))
    swapped = 0
    for qualname, function in _functions(module).items():
        code = compiled.get(qualname)
        if code is not None and code.co_freevars == function.__code__.co_freevars:
            function.__code__ = code
            swapped += 1
    return swapped


def run_child(module_name: str, path: Path, mutated: str | None, tests: list[str],
              log_path: Path) -> None:
    """In the forked child: apply the mutant, run pytest, exit with its status."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.setpgid(0, 0)  # the parent kills the whole group (worker subprocesses too) on timeout
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        if mutated is not None:
            swap_in(sys.modules[module_name], mutated)
        import pytest
        rc = pytest.main([*tests, "-x", "-q", "-p", "no:cacheprovider", "-m", MARKERS,
                          "-W", "ignore"])
    except BaseException:  # noqa: BLE001 - anything that breaks the run kills the mutant
        import traceback
        traceback.print_exc()
        rc = 99
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(rc))


def _warm_up(tests: list[str]) -> None:
    """Collect once in this process, so each forked child finds pytest's plugins (and
    everything the tests import) loaded already."""
    import pytest

    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        pytest.main([*tests, "--collect-only", "-q", "-p", "no:cacheprovider"])
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)


def run_once(module_name, path, mutated, tests, timeout, log_path) -> tuple[str, float]:
    original = path.read_text()
    started = time.monotonic()
    if mutated is not None:
        path.write_text(mutated)  # for worker subprocesses started by the tests
    try:
        pid = os.fork()
        if pid == 0:
            run_child(module_name, path, mutated, tests, log_path)
        deadline = started + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                rc = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.killpg(pid, sig)
                    except ProcessLookupError:
                        pass
                    time.sleep(1)
                os.waitpid(pid, 0)
                return "timeout", time.monotonic() - started
            time.sleep(0.05)
    finally:
        path.write_text(original)
    outcome = "passed" if rc == 0 else ("no-tests" if rc == 5 else "failed")
    return outcome, time.monotonic() - started


def _earlier_outcomes(paths: list[str]) -> dict[tuple[str, str, str], str]:
    """(module, kind, text) -> killed | survived, from earlier runs' per-mutant lines."""
    outcomes: dict[tuple[str, str, str], str] = {}
    pattern = re.compile(r"^   (\S+?):\d+ (\S+)\s+(failed|timeout|passed)\s+[\d.]+s  (.*)$")
    for path in paths:  # a later run's word on a mutant replaces an earlier one's
        in_this_run: dict[tuple[str, str, str], str] = {}
        for line in Path(path).read_text().splitlines():
            match = pattern.match(line)
            if match:
                module, kind, outcome, text = match.groups()
                key = (module, kind, text)  # two mutants may read alike: one survivor counts
                if outcome == "passed" or in_this_run.get(key) != "survived":
                    in_this_run[key] = "survived" if outcome == "passed" else "killed"
        outcomes.update(in_this_run)
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths from TARGETS (default: all)")
    parser.add_argument("--list", action="store_true", help="list mutants, run nothing")
    parser.add_argument("--timeout-factor", type=float, default=3.0)
    parser.add_argument("--min-timeout", type=float, default=60.0,
                        help="seconds; on a loaded box a slow pass must not count as a kill")
    parser.add_argument("--sample", type=int, default=1, metavar="N",
                        help="run every Nth mutant only (the same ones on every run)")
    parser.add_argument("--logs", default="/tmp/mutation-logs")
    parser.add_argument("--markers", default=MARKERS, help="pytest -m expression per mutant")
    parser.add_argument("--rerun-survivors-of", metavar="OUTPUT", action="append", default=[],
                        help="an earlier run's output: run only the mutants it did not kill "
                             "(survivors, and mutants it never had); count the rest as killed. "
                             "Sound only if no test that killed them was removed or weakened.")
    args = parser.parse_args()
    globals()["MARKERS"] = args.markers
    # A stopped run must still restore the file it mutated (the `finally` in run_once).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logs = Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    selected = args.modules or list(TARGETS)
    earlier = _earlier_outcomes(args.rerun_survivors_of)
    summary = []
    for relative in selected:
        lines, tests = TARGETS[relative]
        tests = [t for t in tests if (ROOT / t.split("::")[0]).exists()]
        path = ROOT / relative
        source = path.read_text()
        mutants = mutants_of(source, lines)[::args.sample]
        print(f"== {relative}: {len(mutants)} mutants; tests: {' '.join(tests) or 'none'}",
              flush=True)
        if args.list:
            for m in mutants:
                print(f"   {relative}:{m.line} {m.kind}: {m.text}")
            continue
        if not tests:
            summary.append((relative, 0, len(mutants), len(mutants)))
            print("   no test files: every mutant survives", flush=True)
            continue
        module_name = relative.removesuffix(".py").replace("/", ".")
        importlib.import_module(module_name)
        for test in tests:  # import the tests' modules once, here, before forking
            importlib.import_module(test.split("::")[0].removesuffix(".py").replace("/", "."))
        importlib.import_module("tests.conftest")
        _warm_up(tests)
        baseline, seconds = run_once(module_name, path, None, tests, 900,
                                     logs / f"{module_name}.baseline.log")
        if baseline != "passed":
            print(f"   baseline {baseline}; see {logs}/{module_name}.baseline.log", flush=True)
            summary.append((relative, None, len(mutants), None))
            continue
        timeout = max(args.min_timeout, seconds * args.timeout_factor)
        print(f"   baseline passed in {seconds:.1f}s; per-mutant timeout {timeout:.0f}s",
              flush=True)
        killed, survivors, carried = 0, [], 0
        for number, mutant in enumerate(mutants):
            if earlier.get((relative, mutant.kind, mutant.text)) == "killed":
                killed += 1
                carried += 1
                continue
            mutated = apply(source, mutant)
            log_path = logs / f"{module_name}.{number}.log"
            outcome, seconds = run_once(module_name, path, mutated, tests, timeout, log_path)
            if outcome == "passed":
                survivors.append(mutant)
                log_path.unlink(missing_ok=True)
            else:
                killed += 1
                log_path.unlink(missing_ok=True)
            print(f"   {relative}:{mutant.line} {mutant.kind:17s} {outcome:8s} "
                  f"{seconds:5.1f}s  {mutant.text}", flush=True)
        summary.append((relative, killed, len(mutants), len(survivors)))
        if carried:
            print(f"   {carried} mutants killed by the earlier run counted killed, not re-run",
                  flush=True)
        for mutant in survivors:
            print(f"   SURVIVED {relative}:{mutant.line} {mutant.kind}: {mutant.text}", flush=True)
    print("\n== mutation score (killed / mutants)")
    for relative, killed, total, survived in summary:
        if killed is None:
            print(f"   {relative:32s} baseline failed ({total} mutants not run)")
        else:
            print(f"   {relative:32s} {killed:3d}/{total:<3d} = {killed / max(total, 1):5.0%}"
                  f"   survived {survived}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
