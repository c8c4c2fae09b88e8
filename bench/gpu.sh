#!/usr/bin/env bash
# The GPU benchmark (issue 16), for whenever a CUDA machine is lent: in one run each,
#   1. the bare model and the system (gunicorn, Redis, one gpu worker, SQLite) at 1, 16 and
#      64 concurrent product_description jobs, fp16, batches of up to 64 rows: tokens/s,
#      jobs/s, p50/p99 latency, system/bare;
#   2. a burst of 64 mixed generation jobs under the static and the continuous batcher.
# Extra arguments go to step 1 (e.g. --max-words 80). Without CUDA it stops with a message;
# `python bench/generation.py --device cpu --sizes 1 4 --skip-unbatched` runs the same code
# on the CPU. Needs the venv (scripts/install) and the offline models; starts Redis if none.
# A lent GPU machine without Redis, Celery, the GGUF or a network runs bench/gpu_check.sh
# instead: the bare model against the worker's own batchers in one process, random weights.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
BROKER_URL=redis://127.0.0.1:6379/10 ensure_redis
threads=$(nproc)
"$PY" bench/generation.py --device cuda --sizes 1 16 64 --skip-unbatched \
  --threads "$threads" "$@"
"$PY" bench/generation.py --device cuda --burst 64 --threads "$threads"
