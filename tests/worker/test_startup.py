"""A worker that cannot load its model stops with a message naming the setting."""

from __future__ import annotations

from tests.support.processes import start_worker
from tests.support.stack import stack_env


def _env(redis_server, tmp_path, **extra):
    return stack_env(f"sqlite:///{tmp_path / 'v.db'}", redis_server.url, **extra)


def test_missing_model_folder_stops_worker_before_forking(redis_server, tmp_path):
    env = _env(redis_server, tmp_path, VITRINE_EMBEDDING_MODEL=str(tmp_path / "no-such-model"))
    worker = start_worker(env, queues="cpu", concurrency=1, name="broken")
    assert worker.wait(60) != 0
    assert "VITRINE_EMBEDDING_MODEL" in worker.output
    assert "no such model folder" in worker.output


def test_unloadable_model_stops_worker_from_the_child(redis_server, tmp_path):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "config.json").write_text("{ this is not json")
    env = _env(redis_server, tmp_path, VITRINE_EMBEDDING_MODEL=str(folder))
    worker = start_worker(env, queues="cpu", concurrency=1, name="broken-child")
    worker.wait(120)
    assert "event=model_load_failed" in worker.output
    assert "VITRINE_EMBEDDING_MODEL: cannot load embedding model" in worker.output


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
    finally:
        gpu.stop()
        cpu.stop()
