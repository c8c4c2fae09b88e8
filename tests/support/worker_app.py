"""The real worker plus the test suite's job types: `celery -A tests.support.worker_app`."""

from __future__ import annotations

from collections.abc import Iterable

from celery import Celery

from shared.job_types import JobType
from shared.settings import Settings
from tests.support.diagnostics import DiagnosticFamily, DiagnosticGenerationFamily
from tests.support.echo import EchoFamily
from tests.support.job_types import TEST_JOB_TYPES
from worker.contract import Family
from worker.factory import create_worker, default_families


def create_test_worker(extra_types: Iterable[JobType] = (),
                       extra_families: Iterable[Family] = ()) -> Celery:
    """The production families and the tests' own, configured from the environment."""
    settings = Settings.from_env(job_types=(*TEST_JOB_TYPES, *extra_types))
    return create_worker(settings, families=[
        *default_families(), DiagnosticFamily(), DiagnosticGenerationFamily(), EchoFamily(),
        *extra_families])


app = create_test_worker()
