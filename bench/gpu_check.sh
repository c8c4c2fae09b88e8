#!/usr/bin/env bash
# The GPU check for a lent CUDA machine that has no Redis, Celery or network (see the
# docstring of bench/gpu_check.py): bare generate against the worker's own batchers, fp16,
# batch sizes up to 64, random weights (speed only). Prepare its folder here first:
#   .venv/bin/python bench/gpu_check_prepare.py        # writes .devgpu/ (about 25 MiB)
# then on the device, with .devgpu carried: bench/gpu_check.sh [gpu_check.py options].
# Installs the carried wheels into a folder under /tmp and puts it first on PYTHONPATH.
# PYTHON picks the interpreter (default python3, the one with CUDA torch there).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
assets=${VITRINE_GPU_ASSETS:-.devgpu}
site=${VITRINE_GPU_SITE:-/tmp/vitrine-gpu-site}
if compgen -G "$assets/wheels/*.whl" >/dev/null; then
  started=$SECONDS
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$site" "$assets"/wheels/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
  echo "installed $(ls "$assets"/wheels | wc -l) carried wheels into $site in $((SECONDS - started))s"
fi
export TOKENIZERS_PARALLELISM=false
exec "$py" bench/gpu_check.py --assets "$assets" "$@"
