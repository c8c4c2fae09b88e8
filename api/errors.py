"""Every error leaves the API as {"error": {"code", "message", "details": [{path, problem}]}}."""

from __future__ import annotations

from typing import TypeVar

from flask import Flask, jsonify
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from shared.contention import contention
from shared.schemas.base import validation_details

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """An error with a stable code that the client can act on."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


class ErrorDetail(BaseModel):
    path: str
    problem: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail]


class Error(BaseModel):
    """What every error answer holds (its schema in /openapi.json)."""

    error: ErrorInfo


def validated(schema: type[M], data: object, message: str, *, prefix: str = "") -> M:
    """`data` as `schema`, or a 422 whose details name each problem's JSON path."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "validation_error", message,
                       validation_details(exc, prefix=prefix)) from None


def error_response(status: int, code: str, message: str, details=None, headers=None):
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return jsonify(body), status, headers or {}


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    503: "unavailable",
}


def init_app(app: Flask) -> None:
    """Register handlers so that no error, ours or Werkzeug's, leaves as HTML."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.details,
                              getattr(error, "headers", None))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        message = error.description or error.name
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = (f"request body is larger than the {limit}-byte limit "
                       "(VITRINE_MAX_BODY_BYTES); see the limits table in the README")
        return error_response(status, _HTTP_CODES.get(status, "http_error"), message)

    @app.errorhandler(OperationalError)
    def _database_error(error: OperationalError):
        kind = contention(error)
        first_line = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        if kind == "conflict":
            app.logger.warning("event=db_conflict error=%s", first_line)
            return error_response(409, "concurrent_update",
                                  "another request changed the same data at the same time "
                                  "and this one lost every retry; send it again")
        if kind == "busy":
            app.logger.warning("event=db_busy error=%s", first_line)
            return error_response(503, "database_busy",
                                  "the database is up but busy with other writes; retry "
                                  "shortly", headers={"Retry-After": "1"})
        app.logger.error("event=db_unavailable error=%s", first_line)
        return error_response(503, "unavailable", "the database is unavailable; retry later")

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError):
        # A race the route did not expect (the expected ones are retried or replayed).
        app.logger.warning("event=db_integrity error=%s", str(error.orig).splitlines()[0])
        return error_response(409, "conflict", "the request conflicts with a concurrent one; "
                              "send it again")

    @app.errorhandler(DataError)
    def _data(error: DataError):
        # Validation should have refused the value: logged as an error so that it gets fixed,
        # but the client still hears that its value, not the service, was the problem.
        app.logger.error("event=db_refused_value error=%s", str(error.orig).splitlines()[0])
        return error_response(422, "unstorable_value",
                              "a value in the request cannot be stored; check for unusual "
                              "characters or out-of-range numbers")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("event=unhandled_error")
        return error_response(500, "internal_error", "internal error; the cause is logged")
