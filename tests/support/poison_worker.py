"""The test worker plus the poison job type: `celery -A tests.support.poison_worker`."""

from tests.support.poison import POISON, PoisonFamily
from tests.support.worker_app import create_test_worker

app = create_test_worker([POISON], [PoisonFamily()])
