"""Prepare what bench/gpu_check.py needs on a lent GPU machine, here, into one small folder.

    .venv/bin/python bench/gpu_check_prepare.py [--assets .devgpu] [--no-wheels]

Why: the default generation model (the SmolLM2-135M-Instruct GGUF, ~98 MB) is too big for
the 64 MiB that travels to the device machine, and that machine has no network and lacks
some of the worker's packages. So this writes, under `--assets` (ignored by git through
.git/info/exclude; name it in the device call's `carry`):

  model/        the GGUF's architecture as a plain LlamaConfig (no quantization) and its
                tokenizer with the chat template: a few MB. The device builds the same
                architecture with RANDOM weights (speed figures only, no text quality).
  prompts.json  real chat prompts of product_description jobs on Office products (the
                worker's own templates and candidates), so prompt lengths are realistic.
  wheels/       the worker's imports the device image lacks (pydantic, SQLAlchemy, Celery
                and their needs, for worker.contract, which the continuous batcher imports)
                and the transformers version of this venv, as cp312 manylinux x86_64 or
                pure-python wheels; bench/gpu_check.sh installs them into /tmp there.

Prints the folder's size at the end: keep it well under the 64 MiB limit.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "clients" / "python")]

PROMPT_ROWS = 64  # one distinct prompt per concurrent request at the largest size
# Imported by worker.contract's chain (and so by worker.generation.continuous) but missing
# from the device image, plus transformers: the image's 5.17 takes `past_key_values=` where
# this venv's (and the continuous batcher's) takes `cache=`. Versions: this venv's.
WHEELS = ["pydantic", "pydantic-core", "annotated-types", "typing-inspection",
          "typing-extensions", "sqlalchemy", "greenlet", "celery", "kombu", "billiard",
          "amqp", "vine", "tzlocal", "click", "transformers"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]


def write_model(folder: Path) -> None:
    """The GGUF's config (as a float16 LlamaConfig) and tokenizer, without its weights."""
    from transformers import AutoConfig, AutoTokenizer, LlamaConfig

    from worker.models.sources import generation_source

    source = generation_source("", "")
    config = AutoConfig.from_pretrained(source.location, gguf_file=source.gguf_file)
    fields = {k: v for k, v in config.to_dict().items()
              if k not in ("quantization_config", "_name_or_path", "transformers_version")}
    plain = LlamaConfig(**fields)
    plain.architectures = ["LlamaForCausalLM"]
    plain.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(source.location, gguf_file=source.gguf_file)
    tokenizer.save_pretrained(folder)
    print(f"model/: {plain.num_hidden_layers} layers, hidden {plain.hidden_size}, vocab "
          f"{plain.vocab_size}, from {source.name} ({source.revision})")


def write_prompts(path: Path) -> None:
    """The first PROMPT_ROWS rows product_description jobs send (candidates as on cuda)."""
    from bench.generation import _products, _prompts

    rows, count = [], 4
    while len(rows) < PROMPT_ROWS:
        rows = [r for p in _products(count) for r in _prompts(p, 40, "cuda")]
        count *= 2
    path.write_text(json.dumps([{"messages": m, "max_new_tokens": n}
                                for m, n in rows[:PROMPT_ROWS]], indent=1))
    budgets = sorted(n for _, n in rows[:PROMPT_ROWS])
    print(f"prompts.json: {PROMPT_ROWS} rows, token budgets {budgets[0]}..{budgets[-1]}")


def download_wheels(folder: Path) -> None:
    """This venv's version of each WHEELS package, built for CPython 3.12 on x86_64."""
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in WHEELS]
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                    "--only-binary=:all:", "--python-version", "3.12", "--implementation",
                    "cp", *platforms, "-d", str(folder), *pins], check=True)
    print(f"wheels/: {', '.join(pins)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=Path, default=ROOT / ".devgpu")
    parser.add_argument("--no-wheels", action="store_true")
    args = parser.parse_args()
    (args.assets / "model").mkdir(parents=True, exist_ok=True)
    write_model(args.assets / "model")
    write_prompts(args.assets / "prompts.json")
    if not args.no_wheels:
        (args.assets / "wheels").mkdir(exist_ok=True)
        download_wheels(args.assets / "wheels")
    size = sum(f.stat().st_size for f in args.assets.rglob("*") if f.is_file())
    print(f"{args.assets}: {size / 2**20:.1f} MiB (the device call's limit is 64 MiB in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
