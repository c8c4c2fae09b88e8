"""X-Request-Id: taken from the request (when well-formed) or made here, bound to every log
line of the request, stored on jobs it submits, and sent back on every response."""

from __future__ import annotations

from flask import Flask, Response, g, request

from api.errors import ApiError
from shared import logs


def request_id() -> str:
    """This request's id (routes store it on what they create)."""
    return g.request_id


def _start() -> None:
    offered = request.headers.get(logs.REQUEST_ID_HEADER)
    g.request_id = offered if offered and logs.valid_request_id(offered) \
        else logs.new_request_id()
    g.log_context = logs.bind(request_id=g.request_id)
    if offered is not None and offered != g.request_id:
        raise ApiError(422, "validation_error", f"{logs.REQUEST_ID_HEADER} header is invalid",
                       [{"path": f"header:{logs.REQUEST_ID_HEADER}",
                         "problem": "must be 1-128 of A-Z a-z 0-9 . _ : / + = @ -; this "
                                    f"response's id is {g.request_id}"}])


def _finish(response: Response) -> Response:
    response.headers[logs.REQUEST_ID_HEADER] = g.get("request_id") or logs.new_request_id()
    return response


def _unbind(_error=None) -> None:
    token = g.pop("log_context", None)
    if token is not None:
        try:
            logs.unbind(token)
        except ValueError:  # reset from another context (a streamed response): harmless
            pass


def init_app(app: Flask) -> None:
    """Register first, so even a request the guards refuse has and returns an id."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_unbind)
