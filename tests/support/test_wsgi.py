"""The API with the test suite's job types, for gunicorn: `tests.support.test_wsgi:app`."""

from api import create_app
from shared.settings import Settings
from tests.support.job_types import TEST_JOB_TYPES

app = create_app(Settings.from_env(job_types=TEST_JOB_TYPES))
