"""A Celery app without the worker's tasks, for beat and Flower in the torch-free image.

Beat only sends the sweep task by name and Flower only watches, so neither needs models:
`celery -A shared.beat beat` / `celery -A shared.beat flower`.
"""

from shared.queues import make_celery
from shared.settings import Settings

app = make_celery(Settings.from_env())
