"""What sits between the socket and the app under gunicorn: a deadline for reading the request
body, and an access log that never writes an API key.

Slow clients: the gevent workers (api.gunicorn_conf) read each connection in a greenlet, so a
client that trickles its request holds a few kilobytes, never an app thread. Headers must
arrive within gunicorn's `keepalive` seconds (the gevent worker's read timeout); the body
within VITRINE_BODY_TIMEOUT_S, or the client gets 408 and the connection is closed.
"""

from __future__ import annotations

import io
import json
import re
import socket

from gunicorn.glogging import Logger

from api.guards import KEY_PARAMETERS, KEY_PATTERN
from shared import logs

REDACTED = "[redacted]"


_KEY_PARAMETER = re.compile(
    r"((?:^|[?&;])(?:" + "|".join(re.escape(n) for n in sorted(KEY_PARAMETERS)) + r")=)[^&;#\s]*",
    re.IGNORECASE)


def redact(text: str) -> str:
    """`text` (a request line, a query string, a URL) with API keys and key parameters hidden."""
    return _KEY_PARAMETER.sub(r"\1" + REDACTED, KEY_PATTERN.sub(REDACTED, text))


class RedactingLogger(Logger):
    """gunicorn's logger; request line, query string, referer and headers go through redact."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "q", "f", "{raw_uri}e", "{query_string}e", "{http_referer}i",
                     "{referer}i"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        for name in ("{authorization}i", "{http_authorization}e"):
            if name in atoms:
                atoms[name] = REDACTED
        return atoms


class BodyDeadline:
    """WSGI middleware: the whole body is read within `seconds` (gevent.Timeout) before the app
    sees it, or the client gets 408. Bodies over `limit` are left to the app (it answers 413
    from Content-Length without reading them)."""

    def __init__(self, app, *, seconds: float, limit: int) -> None:
        self.app, self.seconds, self.limit = app, seconds, limit

    def __call__(self, environ, start_response):
        import gevent  # only under the gevent worker, which is what installs this

        length = int(environ.get("CONTENT_LENGTH") or 0)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if length > self.limit or not (length or chunked):
            return self.app(environ, start_response)
        try:
            with gevent.Timeout(self.seconds):
                body = environ["wsgi.input"].read(length if length else self.limit + 1)
        except gevent.Timeout:
            return self._timed_out(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def _timed_out(self, environ, start_response):
        body = json.dumps({"error": {
            "code": "request_timeout", "details": [],
            "message": f"the request body did not arrive within {self.seconds:g}s"}}).encode()
        # The rest of the body may still come: stop reading this connection, so that gunicorn
        # closes it after the answer instead of parsing the leftovers as a next request
        # (a Connection: close header is hop-by-hop, and gunicorn drops it).
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        # Answered before the app runs: the request id is made here (api.request_ids's rule).
        offered = environ.get("HTTP_X_REQUEST_ID") or ""
        request_id = offered if logs.valid_request_id(offered) else logs.new_request_id()
        start_response("408 Request Timeout", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(body))),
                                               (logs.REQUEST_ID_HEADER, request_id)])
        return [body]
