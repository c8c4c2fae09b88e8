"""Session fixtures: a private Redis, databases (SQLite and PostgreSQL), real workers."""

from __future__ import annotations

import os

import pytest
import redis

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tests.support.processes import RedisServer  # noqa: E402
from tests.support.receiver import Receiver  # noqa: E402
from tests.support.stack import (  # noqa: E402
    PostgresDatabase,
    build_stack,
    start_gpu_worker,
)

BACKENDS = ["sqlite", "postgresql"]
# Both backends, the PostgreSQL one marked (`-m "not postgres"` runs SQLite only).
MARKED_BACKENDS = [pytest.param("sqlite"),
                   pytest.param("postgresql", marks=pytest.mark.postgres)]
# Redis dbs lent to one test module at a time by `own_stack` (the session fixtures use 0-10).
_OWN_REDIS_DBS = list(range(11, 16))


@pytest.fixture(scope="session")
def redis_server():
    """A redis-server of our own on a free port, so tests may restart it."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory):
    """Makes a fresh database URL for a backend; PostgreSQL databases are dropped at the end."""
    made: list[PostgresDatabase] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'vitrine.db'}"
        database = PostgresDatabase()
        made.append(database)
        return database.url

    yield make
    for database in made:
        database.drop()


@pytest.fixture(params=MARKED_BACKENDS)
def migrated_database(request, database_factory):
    """A fresh, migrated database of each backend, for tests of the shared package alone."""
    from shared.db import Database
    from shared.migrate import upgrade

    url = database_factory(request.param)
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


# Webhooks may reach the tests' own receiver on loopback, with short timeouts and retries.
WEBHOOK_TEST_ENV = {
    "VITRINE_WEBHOOK_ALLOWLIST": "127.0.0.1/32",
    "VITRINE_WEBHOOK_TIMEOUT_S": "1",
    "VITRINE_WEBHOOK_RETRY_DELAYS_S": "0.4",
}


@pytest.fixture(scope="session", params=BACKENDS)
def stack(request, redis_server, database_factory):
    """The API app, a real cpu worker (2 processes) and a webhooks worker (threads) on one
    backend; one per backend."""
    redis_db = BACKENDS.index(request.param)
    built = build_stack(request.param, database_factory(request.param),
                        f"redis://127.0.0.1:{redis_server.port}/{redis_db}",
                        with_webhook_worker=True, **WEBHOOK_TEST_ENV)
    yield built
    built.stop()


@pytest.fixture(scope="session")
def receiver():
    """A webhook receiver on 127.0.0.1; each test scripts its own paths."""
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gen_stack(redis_server, database_factory):
    """The API and a real gpu-queue worker (threads pool, one batcher) on SQLite."""
    built = build_stack("sqlite", database_factory("sqlite"),
                        f"redis://127.0.0.1:{redis_server.port}/7", with_worker=False,
                        VITRINE_TORCH_THREADS="2")
    built.workers.append(start_gpu_worker(built.env, name="gpu-sqlite"))
    yield built
    built.stop()


@pytest.fixture(scope="session")
def openai_server(tmp_path_factory):
    """A real OpenAI-compatible server (`transformers serve`) with the offline SmolLM2."""
    from tests.support.serve import OpenAIServer, dequantized_smollm2

    folder = dequantized_smollm2(tmp_path_factory.mktemp("smollm2-hf"))
    server = OpenAIServer(folder, dict(os.environ, HF_HUB_OFFLINE="1",
                                       TRANSFORMERS_OFFLINE="1"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_stack(redis_server, database_factory, openai_server):
    """The API and a gpu-queue worker whose generation backend is that server."""
    built = build_stack("sqlite", database_factory("sqlite"),
                        f"redis://127.0.0.1:{redis_server.port}/8", with_worker=False,
                        VITRINE_TORCH_THREADS="1", VITRINE_GENERATION_BACKEND="openai",
                        VITRINE_OPENAI_BASE_URL=openai_server.base_url,
                        VITRINE_OPENAI_MODEL=openai_server.model,
                        VITRINE_OPENAI_TIMEOUT_S="120")
    built.workers.append(start_gpu_worker(built.env, name="gpu-openai"))
    yield built
    built.stop()


@pytest.fixture(scope="session")
def api_only(redis_server, database_factory):
    """The API app on SQLite with no worker, for tests that only talk to the API."""
    built = build_stack("sqlite", database_factory("sqlite"),
                        f"redis://127.0.0.1:{redis_server.port}/5", with_worker=False)
    yield built
    built.stop()


@pytest.fixture(scope="session", params=MARKED_BACKENDS)
def api_on_both(request, redis_server, database_factory):
    """`api_only` on SQLite and on PostgreSQL, for API tests that lean on the database
    (inserts, unique keys, pagination, concurrent requests)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("api_only")
        return
    built = build_stack("postgresql", database_factory("postgresql"),
                        f"redis://127.0.0.1:{redis_server.port}/10", with_worker=False)
    yield built
    built.stop()


@pytest.fixture(scope="module", params=MARKED_BACKENDS)
def own_stack(request, redis_server, database_factory):
    """The API app (no worker) on a database and a Redis db of this test module's own, on
    SQLite and PostgreSQL: for tests that change or count shared state (sweeps, deliveries,
    status races), so that no other module's rows are in their way, nor theirs in others'."""
    redis_db = _OWN_REDIS_DBS.pop()
    redis.Redis(port=redis_server.port, db=redis_db).flushdb()
    built = build_stack(request.param, database_factory(request.param),
                        f"redis://127.0.0.1:{redis_server.port}/{redis_db}", with_worker=False)
    yield built
    built.stop()
    _OWN_REDIS_DBS.append(redis_db)
