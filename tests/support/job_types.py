"""The job types the test API accepts and the test workers run."""

from __future__ import annotations

from shared.job_types import BUILT_IN, JobType
from tests.support.diagnostics import DIAGNOSTIC_TYPES
from tests.support.echo import ECHO

TEST_JOB_TYPES: tuple[JobType, ...] = (*BUILT_IN, *DIAGNOSTIC_TYPES, ECHO)
