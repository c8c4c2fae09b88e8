"""A worker that cannot load its model stops with a message naming the setting; models load
in the pool's children (prefork) or once in the main process (threads), never in a forking
parent. Each worker here has a Redis db of its own (3), so no message meant for another
test's workers is ever taken against this test's empty database."""

from __future__ import annotations

import re

from tests.support.processes import start_worker
from tests.support.stack import stack_env

OWN_REDIS_DB = 3


def _env(redis_server, tmp_path, **extra):
    return stack_env(f"sqlite:///{tmp_path / 'v.db'}",
                     f"redis://127.0.0.1:{redis_server.port}/{OWN_REDIS_DB}", **extra)


def _lines(output: str, text: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


def test_missing_model_folder_stops_worker_before_forking(redis_server, tmp_path):
    env = _env(redis_server, tmp_path, VITRINE_EMBEDDING_MODEL=str(tmp_path / "no-such-model"))
    worker = start_worker(env, queues="cpu", concurrency=1, name="broken")
    try:
        assert worker.wait(60) != 0
        assert "VITRINE_EMBEDDING_MODEL" in worker.output
        [line] = _lines(worker.output, "event=model_unavailable")
        assert "no such model folder" in line and " MainProcess " in line
        assert "ForkPoolWorker" not in worker.output  # stopped before any child was forked
    finally:
        worker.stop()


def test_unloadable_model_stops_worker_from_the_child(redis_server, tmp_path):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "config.json").write_text("{ this is not json")
    env = _env(redis_server, tmp_path, VITRINE_EMBEDDING_MODEL=str(folder))
    worker = start_worker(env, queues="cpu", concurrency=1, name="broken-child")
    try:
        # The child stopped the whole worker (no respawn loop): wait() returns instead of
        # timing out. Its status is 0: the child's SIGTERM asks the parent for a warm
        # shutdown, which Celery ends with 0.
        assert worker.wait(120) is not None
        failures = _lines(worker.output, "event=model_load_failed")
        assert failures and all(re.search(r" ForkPoolWorker-\d+ ", f) for f in failures)
        assert "VITRINE_EMBEDDING_MODEL: cannot load embedding model" in worker.output
    finally:
        worker.stop()


def test_queues_decide_which_models_a_worker_loads(redis_server, tmp_path):
    env = _env(redis_server, tmp_path)
    gpu = start_worker(env, queues="gpu", concurrency=4, pool="threads", name="gpu-check")
    cpu = start_worker(env, queues="cpu", concurrency=1, name="cpu-check")
    try:
        gpu.wait_for_log(" ready.", timeout=240)
        cpu.wait_for_log("event=model_loaded kind=embedding", timeout=120)
        # A threads pool loads once, in the main process, before it reports ready.
        assert gpu.count("event=model_loaded kind=generation") == 1
        assert gpu.count("event=model_loaded kind=embedding") == 1
        assert "MainProcess worker.models.generation" in gpu.output
        assert "SmolLM2-135M-Instruct" in gpu.output
        assert "kind=generation" not in cpu.output
        # Prefork: the model is loaded in the child, never in the parent that forks.
        [loaded] = _lines(cpu.output, "event=model_loaded kind=embedding")
        assert re.search(r" ForkPoolWorker-\d+ ", loaded) and " MainProcess " not in loaded
    finally:
        gpu.stop()
        cpu.stop()
