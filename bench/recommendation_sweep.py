"""Many trainings of the sequential recommender at once, to compare their knobs.

    python3 bench/recommendation_sweep.py --vectors-cache .devsweep/office_vectors.npy \
        --out $OUT/sweep.txt --wall 300 [--procs 14] [--only base,d128] [--max-item 200]

One process per configuration (a fork of this one, after the data is loaded), one torch
thread each, on the CPU: the production target is a CPU worker, so the figures carry over.
Each runs exactly what bench/recommendation_quality.py runs (split, fit with patience on
validation NDCG, the blend chosen on validation, then leave-last-out on every shopper's
held-out item) and reports epochs, fit seconds, and hit@10 / NDCG@10 of the model with the
chosen blend and of the model alone. Every configuration gets the same fit budget, worked
out from --wall so that all of them finish inside it; a result line is written the moment
it is known, and whatever has not finished at the deadline is named as such.

Runs where the API's packages are missing (pydantic, sqlalchemy, celery on a bare GPU
machine): the modules that import them get stand-ins, which the code run here never calls.
The data are the tracked files under data/; the item vectors come from --vectors-cache
(bench/recommendation_quality.py --vectors-cache writes it), so no embedding model is needed.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # before numpy and torch: one thread per process

import argparse  # noqa: E402
import importlib.abc  # noqa: E402
import importlib.machinery  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

STAND_INS = ("sqlalchemy", "shared.db", "shared.models", "shared.schemas.catalogs")

# name -> the bench's training flags (bench/recommendation_quality.py
# add_training_arguments); "@N" after a name trains with seed N. In order of interest: a run
# takes the first --procs x --waves of them.
D128 = ["--dim", "128"]
# "mb": width 128, attention that never reads the padding, batches of like lengths: padding
# no longer changes a history's scores (a job scores one history alone, the bench 256 at
# once, the training batches of 128) and an epoch costs a third. The knobs are tried on it.
MB = D128 + ["--mask-padding", "--bucket"]
CONFIGS = {
    "base": [],
    "d128": D128,
    "mb": MB,
    "mb@1": MB,
    "mb-d64": MB + ["--dim", "64"],
    "mb-d256": MB + ["--dim", "256"],
    "mb-drop0.5": MB + ["--dropout", "0.5"],
    "mb-drop0.2": MB + ["--dropout", "0.2"],
    "mb-l1": MB + ["--layers", "1"],
    "mb-l3": MB + ["--layers", "3"],
    "mb-lr1e-3": MB + ["--lr", "1e-3"],
    "mb-lr5e-3": MB + ["--lr", "5e-3"],
    "mb-ls0.1": MB + ["--label-smoothing", "0.1"],
    "mb-offdecay1": MB + ["--offset-decay", "1.0"],
    # a second wave
    "mb-len20": MB + ["--max-len", "20"],
    "mb-batch64": MB + ["--batch", "64"],
    "mb-pat8": MB + ["--patience", "8"],
    "mb-wd0.1": MB + ["--weight-decay", "0.1"],
    "mb-ff4": MB + ["--feedforward", "4"],
    "mb-heads4": MB + ["--heads", "4"],
    "d128-mask": D128 + ["--mask-padding"],
    "mb-d256-drop0.5": MB + ["--dim", "256", "--dropout", "0.5"],
    "mb-drop0.5-ls0.1": MB + ["--dropout", "0.5", "--label-smoothing", "0.1"],
    "mb-val2000-blend4000": MB + ["--validation-shoppers", "2000", "--blend-shoppers", "4000"],
    "mb-d256@1": MB + ["--dim", "256"],
    "mb-drop0.5@1": MB + ["--dropout", "0.5"],
    "base@1": [],
    "mb@2": MB,
}


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Empty modules for STAND_INS: any name imported from them is a placeholder class."""

    def find_spec(self, fullname, path=None, target=None):
        if any(fullname == name or fullname.startswith(name + ".") for name in STAND_INS):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []

        def placeholder(name: str) -> type:
            if name.startswith("__"):
                raise AttributeError(name)
            return type(name, (), {})

        module.__getattr__ = placeholder
        return module

    def exec_module(self, module) -> None:
        pass


def without_database() -> bool:
    """Stand-ins for the database and API modules when their packages are missing."""
    try:
        import celery  # noqa: F401
        import pydantic  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        sys.meta_path.insert(0, _StandInFinder())
        return True
    return False


_STATE: dict = {}  # the parent's loaded data, inherited by the forked workers


def _no_filters() -> types.SimpleNamespace:
    # What ranker.allowed reads of the API's empty Filters.
    return types.SimpleNamespace(category=None, min_price=None, max_price=None,
                                 in_stock=None)


def run_one(name: str) -> dict:
    import torch

    from bench import recommendation_quality as quality
    from worker.recommendation import training

    torch.set_num_threads(1)
    args, office = _STATE["args"], _STATE["office"]
    base, _, seed = name.partition("@")
    parser = argparse.ArgumentParser()
    quality.add_training_arguments(parser)
    flags = parser.parse_args(_STATE["configs"][name])
    config, settings = quality.training_choices(flags, office.index.vectors.shape[1])
    seed = int(seed or 0)
    cpu, wall = time.process_time(), time.monotonic()
    data = training.split(office.training_sequences)
    device, note = args.device, ""

    def fit(device: str, budget_s: float) -> training.Fitted:
        return training.fit(
            data.training, data.validation, office.index, config, budget_s=budget_s,
            max_epochs=args.max_epochs, seed=seed, settings=settings, device=device,
            clock=time.process_time if args.clock == "cpu" and device == "cpu"
            else time.monotonic)

    try:
        fitted = fit(device, _STATE["budget_s"])
    except Exception as error:
        if device == "cpu":
            raise
        # The GPU path failed (it cannot be tried where this was written): the cpu, with
        # what is left of the budget.
        note = f"{device} failed ({type(error).__name__}: {str(error)[:120]}), trained on cpu"
        device = "cpu"
        fitted = fit(device, max(5.0, _STATE["budget_s"] - (time.monotonic() - wall)))
    choice = training.choose_blend(fitted.model, office.index, data.training,
                                   data.validation, seed, settings.blend_shoppers)
    fit_done = time.monotonic()
    figures = quality.evaluate(office, fitted.model, choice.blend,
                               ("model + blend (chosen weights)", "sequential model only"),
                               filters=_no_filters())
    return {
        "name": name, "flags": _STATE["configs"][name], "seed": seed, "device": device,
        "note": note,
        "epochs": fitted.epochs, "best_epoch": fitted.best_epoch, "stopped": fitted.stopped,
        "fit_s": round(fitted.seconds, 1), "fit_and_blend_wall_s": round(fit_done - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "total_wall_s": round(time.monotonic() - wall, 1),
        "blend": [choice.blend.text, choice.blend.cooccurrence, choice.blend.model],
        "validation_model_blend_ndcg": choice.validation["model_blend"]["ndcg_at_10"],
        "test_model_blend": figures["model + blend (chosen weights)"],
        "test_model": figures["sequential model only"],
        "history": fitted.history,
    }


def line(result: dict) -> str:
    blend, test, model = result["blend"], result["test_model_blend"], result["test_model"]
    return (f"{result['name']:<26} ep {result['epochs']:>3} (best {result['best_epoch']:>3}, "
            f"{result['stopped']:<11}) fit {result['fit_s']:>6.1f}s cpu {result['cpu_s']:>6.1f}s"
            f" | blend t{blend[0]:g} c{blend[1]:g} m{blend[2]:g}"
            f" val {result['validation_model_blend_ndcg']:.4f}"
            f" | model+blend hit@10 {test['hit_at_10']:.4f} ndcg@10 {test['ndcg_at_10']:.4f}"
            f" | model hit@10 {model['hit_at_10']:.4f} ndcg@10 {model['ndcg_at_10']:.4f}"
            f" | {' '.join(result['flags']) or '(defaults)'}"
            f"{' | ' + result['note'] if result['note'] else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="the summary file")
    parser.add_argument("--wall", type=float, default=300,
                        help="seconds from start until every result must be in")
    parser.add_argument("--reserve-s", type=float, default=45,
                        help="seconds per configuration kept for the blend choice and the "
                             "test, on top of its fit budget")
    parser.add_argument("--budget-s", type=float, default=0,
                        help="fit budget per configuration; 0: what --wall leaves")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="what the fit budget counts")
    parser.add_argument("--procs", type=int, default=14)
    parser.add_argument("--waves", type=int, default=1,
                        help="without --only, the first procs x waves configurations")
    parser.add_argument("--device", default="cpu",
                        help="where the fits run (cuda: every process on the one GPU; the "
                             "blend choice and the test stay on the cpu)")
    parser.add_argument("--only", default="", help="comma-separated names of CONFIGS")
    parser.add_argument("--extra", action="append", default=[],
                        help="NAME=FLAGS: another configuration, e.g. 'x=--dim 96'")
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--max-item", type=int, default=0, help="a slice (quick checks)")
    parser.add_argument("--data", type=Path, default=None,
                        help="a folder holding Office.items.csv and Office.interactions.csv "
                             "(default: the repository's data/amazon-office)")
    parser.add_argument("--vectors-cache", type=Path,
                        default=ROOT / ".devsweep" / "office_vectors.npy")
    args = parser.parse_args()
    started = time.monotonic()
    stand_ins = without_database()

    from bench import recommendation_quality as quality

    if args.data is not None:  # read at call time by tests/support/events.py
        from tests.support import events

        events.OFFICE_ITEMS = args.data / "Office.items.csv"
        events.OFFICE_INTERACTIONS = args.data / "Office.interactions.csv"
    configs = dict(CONFIGS)
    for extra in args.extra:
        name, _, flags = extra.partition("=")
        configs[name] = flags.split()
    names = [n for n in args.only.split(",") if n] or (
        list(CONFIGS)[:args.procs * args.waves] + [e.partition("=")[0] for e in args.extra])
    unknown = [n for n in names if n not in configs]
    if unknown:
        parser.error(f"unknown configurations: {unknown}")
    if not args.vectors_cache.exists():
        parser.error(f"no vectors cache at {args.vectors_cache}")
    office = quality.load_office(args.vectors_cache, args.max_item)
    loaded = time.monotonic() - started
    waves = math.ceil(len(names) / args.procs)
    budget = args.budget_s or max(5.0, (args.wall - loaded - 10) / waves - args.reserve_s)
    _STATE.update(args=args, office=office, configs=configs, budget_s=budget)
    head = (f"# sequential recommender sweep: {len(names)} configurations, {args.procs} "
            f"processes, 1 torch thread each, fits on {args.device}, fit budget "
            f"{budget:.0f}s ({args.clock} clock), "
            f"wall {args.wall:.0f}s; {len(office.training_sequences)} shoppers, "
            f"{len(office.index)} items{' (slice)' if args.max_item else ''}; data loaded in "
            f"{loaded:.1f}s; python {platform.python_version()}, {os.cpu_count()} cpus, "
            f"stand-ins for the database modules: {stand_ins}")
    print(head, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    with args.out.open("w") as out:
        out.write(head + "\n")
        out.flush()
        pool = multiprocessing.get_context("fork").Pool(min(args.procs, len(names)))
        pending = {name: pool.apply_async(run_one, (name,)) for name in names}
        deadline = started + args.wall
        while pending and time.monotonic() < deadline:
            for name in [n for n, job in pending.items() if job.ready()]:
                job = pending.pop(name)
                try:
                    result = job.get()
                except Exception as error:  # one failed configuration does not stop the rest
                    text = f"{name:<26} FAILED: {type(error).__name__}: {error}"
                else:
                    results.append(result)
                    text = line(result)
                print(text, flush=True)
                out.write(text + "\n")
                out.flush()
            time.sleep(0.5)
        for name in pending:
            text = f"{name:<26} NOT FINISHED by the {args.wall:.0f}s deadline"
            print(text, flush=True)
            out.write(text + "\n")
        pool.terminate()
        out.write("\n# by test NDCG@10 of model + blend\n")
        for result in sorted(results, key=lambda r: -r["test_model_blend"]["ndcg_at_10"]):
            out.write(line(result) + "\n")
        out.write("\n# json\n")
        for result in results:
            out.write(json.dumps(result) + "\n")
    print(f"done in {time.monotonic() - started:.0f}s; summary in {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
