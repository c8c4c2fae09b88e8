"""Pydantic schemas that validate requests and describe them in /openapi.json."""
