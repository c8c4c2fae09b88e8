"""The API under real gunicorn in front of a stack, for tests that go over HTTP."""

from __future__ import annotations

import pytest

from tests.support.server import ApiServer


@pytest.fixture(scope="session")
def live(stack):
    """The API under gunicorn (the test job types) in front of the stack's workers."""
    server = ApiServer(dict(stack.env, WEB_CONCURRENCY="1"), name=f"api-{stack.backend}",
                       wsgi="tests.support.test_wsgi:app")
    yield stack, server
    server.stop()
