"""/openapi.json, built from the app's routes, the job-type table and the pydantic models.

Each view says what it is next to its code (`@documented`: summary, body, success answer,
the errors particular to it); its path, path parameters and operationId (the view's name)
come from its route, the schemas from the models that validate and describe the data, and
the errors every /v1 operation shares are added here once. A route without `@documented`
stops the document from being built, so no route goes undocumented.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.errors import Error
from api.services import get_job_types
from shared.job_types import JobTypes
from shared.schemas.catalogs import CATALOG_NAME
from shared.schemas.jobs import JobCreate, JobView
from shared.status import JobStatus

bp = Blueprint("openapi", __name__)

Schema = type[BaseModel] | str | None  # a model, a component's name, or no body schema

# What any /v1 operation may answer besides its own statuses: 400 (an API key in the query),
# 401, 422 (refused characters in a path, query or header), 503 (database down or busy).
EVERY_V1 = (400, 401, 422, 503)
EVERY_WRITE = (409,)  # contention that outlasted the retries: concurrent_update
EVERY_BODY = (400, 408, 413, 415)  # malformed or too deep, too slow, too large, not JSON
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "job_id": {"type": "string", "format": "uuid"},
    "delivery_id": {"type": "string", "format": "uuid"},
    "batch_id": {"type": "string", "format": "uuid"},
    "catalog_id": {"type": "string", "pattern": CATALOG_NAME},
    "item_id": {"type": "string"},
    "shopper_id": {"type": "string", "minLength": 1, "maxLength": 200},
}


@dataclass(frozen=True)
class Operation:
    summary: str
    status: int
    answer: str
    schema: Schema = None
    body: Schema = None
    body_required: bool = True
    errors: tuple[int, ...] = ()
    parameters: tuple[dict[str, Any], ...] = ()
    public: bool = False  # no API key (health checks)
    extra_responses: dict[str, Any] = field(default_factory=dict)
    body_types: dict[str, Any] = field(default_factory=dict)  # media types besides JSON


def documented(summary: str, *, status: int = 200, answer: str, schema: Schema = None,
               body: Schema = None, body_required: bool = True, errors: Iterable[int] = (),
               parameters: Iterable[dict[str, Any]] = (), public: bool = False,
               extra_responses: dict[str, Any] | None = None,
               body_types: dict[str, Any] | None = None) -> Callable:
    """Describe a view for /openapi.json: its success `status` with `answer` (and `schema`),
    its request `body`, and the error statuses only it can answer."""
    operation = Operation(summary, status, answer, schema, body, body_required, tuple(errors),
                          tuple(parameters), public, extra_responses or {}, body_types or {})

    def describe(view: Callable) -> Callable:
        view.openapi = operation
        return view

    return describe


def undocumented(view: Callable) -> Callable:
    """For the document itself: every other route must be @documented."""
    view.openapi = None
    return view


def query(name: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema} | ({"required": True} if required
                                                              else {})


def header(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": schema}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schema_ref(schema: Schema) -> dict[str, str] | None:
    if schema is None:
        return None
    return ref(schema if isinstance(schema, str) else schema.__name__)


def _json(schema: Schema, description: str) -> dict[str, Any]:
    target = _schema_ref(schema)
    if target is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": target}}}


def _operations(app: Flask) -> list[tuple[str, str, Callable, Operation]]:
    """(path, method, view, operation) for every route, in the order they were added."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "openapi"):
            raise LookupError(f"route {rule.rule} ({rule.endpoint}) is not @documented")
        if view.openapi is None:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), view, view.openapi))
    return found


def _path_item(path: str, method: str, view: Callable, op: Operation) -> dict[str, Any]:
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": PATH_PARAMETERS[name]}
                  for name in _path_names(path)] + list(op.parameters)
    item: dict[str, Any] = {"operationId": view.__name__, "summary": op.summary}
    if parameters:
        item["parameters"] = parameters
    if op.body is not None:
        item["requestBody"] = {"required": op.body_required, "content": {
            "application/json": {"schema": _schema_ref(op.body)}, **op.body_types}}
    responses = {str(op.status): _json(op.schema, op.answer), **op.extra_responses}
    statuses = op.errors
    if path.startswith("/v1/"):
        statuses += EVERY_V1 + (EVERY_WRITE if method != "get" else ())
        statuses += EVERY_BODY if op.body is not None else ()
    for status in sorted(set(statuses)):
        responses.setdefault(str(status), _json(Error, "error"))
    item["responses"] = responses
    if op.public:
        item["security"] = []
    return item


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _job_schemas(job_types: JobTypes, schemas: dict[str, Any]) -> None:
    """The components that tie each job type to its input and result schemas."""
    inputs = {name: ref(t.input_schema.__name__) for name, t in job_types.items()}
    results = {name: ref(t.result_schema.__name__) for name, t in job_types.items()
               if t.result_schema is not None}
    schemas["JobType"] = {"type": "string", "enum": sorted(job_types),
                          "description": "A job type: see JobInputs and JobResults."}
    schemas["JobInputs"] = {"description": "The schema of `input` for each job `type`.",
                            "type": "object", "properties": inputs}
    schemas["JobResults"] = {"description": "The schema of `result` for each job `type`, once "
                                            "the job has succeeded.",
                             "type": "object", "properties": results}
    envelope = schemas["JobCreate"]
    schemas["JobSubmission"] = {
        "description": "Body of POST /v1/jobs: one job type and that type's input.",
        "oneOf": [{**envelope, "title": f"{name} job", "properties": {
            **envelope["properties"], "type": {"const": name}, "input": input_ref}}
            for name, input_ref in sorted(inputs.items())]}
    variants = [{"title": f"{name} job", "properties": {"type": {"const": name}}}
                | ({"if": {"properties": {"status": {"const": JobStatus.SUCCEEDED.value}}},
                    "then": {"properties": {"result": results[name]}}} if name in results else {})
                for name in sorted(job_types)]
    # A row of a type this API no longer declares still reads back.
    variants.append({"title": "job of an undeclared type",
                     "properties": {"type": {"not": {"enum": sorted(job_types)}}}})
    schemas["Job"] = {"description": "A job; once it has succeeded, `result` has the schema "
                                     "of its type (JobResults).",
                      "allOf": [ref("JobView"), {"oneOf": variants}]}
    schemas["JobList"]["properties"]["jobs"]["items"] = ref("Job")


def build_spec(app: Flask, job_types: JobTypes) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`'s routes for these job types."""
    operations = _operations(app)
    requests = {op.body for *_, op in operations if isinstance(op.body, type)}
    requests |= {JobCreate, *(t.input_schema for t in job_types.values())}
    answers = {op.schema for *_, op in operations if isinstance(op.schema, type)}
    answers |= {JobView, Error,
                *(t.result_schema for t in job_types.values() if t.result_schema is not None)}
    models = [(m, "validation") for m in sorted(requests, key=lambda m: m.__name__)]
    models += [(m, "serialization") for m in sorted(answers, key=lambda m: m.__name__)]
    _, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas = dict(defs.get("$defs", {}))
    _job_schemas(job_types, schemas)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, view, op in operations:
        paths.setdefault(path, {})[method] = _path_item(path, method, view, op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vitrine", "version": "1"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


@bp.get("/openapi.json")
@undocumented
def openapi():
    return build_spec(current_app, get_job_types())
