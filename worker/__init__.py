"""Celery workers: load models once per process, run thin tasks, record outcomes.

Never imports Flask. Start with `celery -A worker.app worker -Q cpu` (or `-Q gpu`).
"""
