"""/openapi.json, generated from the same pydantic schemas that validate requests."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from pydantic.json_schema import models_json_schema

from shared.job_types import JobTypes
from shared.schemas.catalogs import EventsIn, ItemsUpsert
from shared.schemas.jobs import JobCreate, JobList, JobView
from shared.schemas.tenant_settings import TenantSettingsBody, TenantSettingsView
from shared.schemas.webhooks import DeliveryList, DeliveryView, RotateSecret

bp = Blueprint("openapi", __name__)

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "details"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "details": {"type": "array", "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "problem": {"type": "string"}},
            }},
        },
    }},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _json(_ref("Error"), "error") for s in statuses}


# What any /v1 operation may answer besides its own statuses: 400 (an API key in the query),
# 401, 422 (refused characters in a path, query or header), 503 (database down or busy).
_EVERY_V1 = (400, 401, 422, 503)
_EVERY_WRITE = (409,)  # contention that outlasted the retries: concurrent_update
_EVERY_BODY = (400, 408, 413, 415)  # malformed or too deep, too slow, too large, not JSON


def _with_common_errors(paths: dict[str, Any]) -> dict[str, Any]:
    for path, operations in paths.items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            statuses = _EVERY_V1 + (_EVERY_WRITE if method != "get" else ())
            statuses += _EVERY_BODY if "requestBody" in operation else ()
            responses = operation["responses"]
            for status, response in _errors(*statuses).items():
                responses.setdefault(status, response)
    return paths


def _submission_per_type(job_create: dict[str, Any],
                         input_by_type: dict[str, dict[str, str]]) -> dict[str, Any]:
    """JobCreate with `input` tied to `type`: clients (and fuzzers) see each type's input."""
    return {"description": "Body of POST /v1/jobs: one job type and that type's input.",
            "oneOf": [{**job_create, "title": f"{job_type} job", "properties": {
                **job_create["properties"], "type": {"const": job_type}, "input": input_ref}}
                for job_type, input_ref in sorted(input_by_type.items())]}


def build_spec(job_types: JobTypes) -> dict[str, Any]:
    """The OpenAPI 3.1 document for these job types."""
    models = [(m, "validation")
              for m in (JobCreate, ItemsUpsert, EventsIn, RotateSecret, TenantSettingsBody,
                        *(t.input_schema for t in job_types.values()))]
    models += [(m, "serialization") for m in (JobView, JobList, DeliveryView, DeliveryList,
                                              TenantSettingsView)]
    _, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas = dict(defs.get("$defs", {}))
    schemas["Error"] = _ERROR
    input_by_type = {n: _ref(t.input_schema.__name__) for n, t in job_types.items()}
    schemas["JobInputs"] = {
        "description": "The schema of `input` for each job `type`.",
        "type": "object", "properties": input_by_type,
    }
    schemas["JobSubmission"] = _submission_per_type(schemas["JobCreate"], input_by_type)
    job_id = {"name": "job_id", "in": "path", "required": True,
              "schema": {"type": "string", "format": "uuid"}}
    catalog_id = {"name": "catalog_id", "in": "path", "required": True,
                  "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,100}$"}}
    job_created = _json(_ref("JobView"), "accepted; Location names the job")
    create_job = {
        "summary": "Submit a job",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 255}}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": _ref("JobSubmission")}}},
        "responses": {"202": job_created, **_errors(400, 401, 409, 413, 415, 422, 503)},
    }
    list_jobs = {
        "summary": "List jobs, newest first",
        "parameters": [
            {"name": "type", "in": "query", "schema": {"type": "string",
                                                       "enum": sorted(job_types)}},
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": [
                "queued", "running", "succeeded", "failed", "canceled"]}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                        "maximum": 100}},
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": _json(_ref("JobList"), "a page of jobs"), **_errors(401, 422)},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vitrine", "version": "1"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": _with_common_errors({
            "/v1/jobs": {"post": create_job, "get": list_jobs},
            "/v1/jobs/{job_id}": {"get": {
                "summary": "Read a job", "parameters": [job_id],
                "responses": {"200": _json(_ref("JobView"), "the job"), **_errors(401, 404)},
            }},
            "/v1/jobs/{job_id}/cancel": {"post": {
                "summary": "Cancel a queued or running job", "parameters": [job_id],
                "responses": {"200": _json(_ref("JobView"), "canceled"),
                              **_errors(401, 404, 409)},
            }},
            "/v1/jobs/{job_id}/deliveries": {"get": {
                "summary": "The job's webhook events with every attempt",
                "parameters": [job_id],
                "responses": {"200": _json(_ref("DeliveryList"), "deliveries, oldest first"),
                              **_errors(401, 404)},
            }},
            "/v1/jobs/{job_id}/deliveries/{delivery_id}/retry": {"post": {
                "summary": "Send a webhook event again (same body and webhook-id)",
                "parameters": [job_id, {"name": "delivery_id", "in": "path", "required": True,
                                        "schema": {"type": "string", "format": "uuid"}}],
                "responses": {"202": _json(_ref("DeliveryView"), "due now"),
                              **_errors(401, 404, 409)},
            }},
            "/v1/webhooks/secret": {"get": {
                "summary": "The tenant's webhook signing secret(s)",
                "responses": {"200": {"description": "secret, previous_secret, "
                                                     "previous_expires_at"},
                              **_errors(401, 409)},  # 409: created on first use
            }},
            "/v1/webhooks/secret/rotate": {"post": {
                "summary": "New signing secret; the old one also signs for a while",
                "requestBody": {"required": False, "content": {"application/json": {
                    "schema": _ref("RotateSecret")}}},
                "responses": {"200": {"description": "secret, previous_secret, "
                                                     "previous_expires_at"},
                              **_errors(401, 415, 422)},
            }},
            "/v1/webhooks/disabled-urls": {
                "get": {"summary": "URLs disabled after answering 410 Gone",
                        "responses": {"200": {"description": "disabled_urls"},
                                      **_errors(401)}},
                "delete": {"summary": "Re-enable a disabled URL",
                           "parameters": [{"name": "url", "in": "query", "required": True,
                                           "schema": {"type": "string"}}],
                           "responses": {"204": {"description": "enabled"},
                                         **_errors(401, 404, 422)}},
            },
            "/v1/catalogs/{catalog_id}": {"get": {
                "summary": "Catalog counts and versions", "parameters": [catalog_id],
                "responses": {"200": {"description": "items, embedded, events, version"},
                              **_errors(401, 404)},
            }},
            "/v1/catalogs/{catalog_id}/items": {"put": {
                "summary": "Upsert items; changed texts are embedded on the cpu queue",
                "parameters": [catalog_id],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("ItemsUpsert")}}},
                "responses": {"202": {"description": "inserted, updated, unchanged, to_embed"},
                              **_errors(400, 401, 413, 415, 422)},
            }},
            "/v1/catalogs/{catalog_id}/items/{item_id}": {"delete": {
                "summary": "Delete an item",
                "parameters": [catalog_id, {"name": "item_id", "in": "path", "required": True,
                                            "schema": {"type": "string"}}],
                "responses": {"204": {"description": "deleted"}, **_errors(401, 404)},
            }},
            "/v1/catalogs/{catalog_id}/events": {"post": {
                "summary": "Add shopper interactions (what co-occurrence is learned from)",
                "parameters": [catalog_id],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("EventsIn")}}},
                "responses": {"202": {"description": "stored"},
                              **_errors(400, 401, 404, 413, 415, 422)},
            }},
            "/v1/settings": {
                "get": {"summary": "The tenant's stored settings (reply texts, raw-input opt-in)",
                        "responses": {"200": _json(_ref("TenantSettingsView"), "settings"),
                                      **_errors(401)}},
                "put": {"summary": "Replace the tenant's stored settings",
                        "requestBody": {"required": True, "content": {"application/json": {
                            "schema": _ref("TenantSettingsBody")}}},
                        "responses": {"200": _json(_ref("TenantSettingsView"), "settings"),
                                      **_errors(400, 401, 413, 415, 422)}},
            },
            "/healthz": {"get": {"summary": "Process is up", "security": [],
                                 "responses": {"200": {"description": "up"}}}},
            "/readyz": {"get": {"summary": "Database and broker reachable", "security": [],
                                "responses": {"200": {"description": "ready"},
                                              "503": {"description": "which check failed"}}}},
        }),
    }


@bp.get("/openapi.json")
def openapi():
    return build_spec(current_app.extensions["vitrine.settings"].job_types)
