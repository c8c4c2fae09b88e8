"""Code both the API and the workers use: settings, models, schemas, the Celery app.

Imports neither Flask nor torch, so the API image stays small.
"""
