"""HTTP for the server: msgspec JSON responses, the one error handler that writes every error
body, request body limits, and a connection class that ends each HTTP/1.1 exchange cleanly."""

from __future__ import annotations

import logging
from typing import Any, cast

import msgspec
import trio
from hypercorn.typing import ASGIReceiveCallable, ASGIReceiveEvent, ASGISendCallable, ASGISendEvent
from quart import Response, has_request_context, request
from quart.json.provider import JSONProvider
from quart_trio.asgi import TrioASGIHTTPConnection
from quart_trio.wrappers.request import TrioRequest
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from recce_trio.errors import INTERNAL_ERROR_DETAIL, NotReadyError, RecceTrioError, StateSaveError

log = logging.getLogger("recce_trio.server")

MIB = 1024 * 1024
# The largest JSON request body. Recce's requests are small (a check with a few thousand
# node ids is well under 1 MiB); 8 MiB leaves room and keeps a bad client from filling memory.
JSON_BODY_LIMIT_BYTES = 8 * MIB
# /api/import takes a whole state file, with four dbt artifacts in it: ~50 MB for a
# 2,000-model project. This is the app's MAX_CONTENT_LENGTH; the JSON limit is per request.
UPLOAD_LIMIT_BYTES = 256 * MIB
UPLOAD_PATHS = frozenset({"/api/import"})
# How long an answer waits for the rest of a request body its handler did not read, so that
# the connection can serve the next request (past this, the connection is closed instead).
BODY_DRAIN_S = 2.0


class MsgspecJSONProvider(JSONProvider):
    """JSON through msgspec: several times faster than the standard library on big payloads.
    Datetimes are written as ISO 8601."""

    _encoder = msgspec.json.Encoder()

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self._encoder.encode(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return msgspec.json.decode(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        # The base class's stubs type the app as a Flask-style one (werkzeug's Response).
        response_class = cast("type[Response]", self._app.response_class)
        return response_class(self._encoder.encode(obj), mimetype="application/json")


def json_response(obj: Any, status: int = 200) -> Response:
    """Encode ``obj`` (which may embed pre-encoded ``msgspec.Raw`` parts) as a JSON response."""
    return Response(MsgspecJSONProvider._encoder.encode(obj), status, mimetype="application/json")


def too_large_detail(limit: int | None) -> str:
    if limit is None:
        return "Request body too large."
    size = f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit:,} bytes"
    return f"Request body too large: at most {size} is accepted here."


async def handle_error(exc: Exception) -> Response:
    """The one error handler: every failed request (a routing error, a client's mistake, a
    failure of the server) gets ``{"detail": ...}`` (``{"error": ...}`` for the 503 of the
    readiness gate), as Recce answers. Tracebacks go to the log, once; never to the client."""
    headers: dict[str, str] = {}
    if isinstance(exc, RecceTrioError):
        status, key, detail = exc.http_status, exc.body_key, exc.public_detail()
        # The gate's 503 is expected; a failed save was logged, with its path, where it failed.
        if status >= 500 and not isinstance(exc, NotReadyError | StateSaveError):
            log.error("%s %s failed: %s", _method(), _path(), exc, exc_info=exc)
    elif isinstance(exc, HTTPException):
        status, key = exc.code or 500, "detail"
        # FastAPI's default detail is the status phrase ("Not Found", "Method Not Allowed").
        detail = exc.name
        if status == 413:
            detail = too_large_detail(request.max_content_length if has_request_context() else None)
        elif isinstance(exc, InternalServerError):
            # Quart has logged the original exception already (handle_exception).
            detail = INTERNAL_ERROR_DETAIL
        elif isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    else:
        log.error("%s %s failed", _method(), _path(), exc_info=exc)
        status, key, detail = 500, "detail", INTERNAL_ERROR_DETAIL
    response = json_response({key: detail}, status)
    response.headers.update(headers)
    return response


def _method() -> str:
    return request.method if has_request_context() else "-"


def _path() -> str:
    return request.path if has_request_context() else "-"


class RecceRequest(TrioRequest):
    """A request whose body limit depends on its path: JSON bodies are small, and only the
    upload paths take up to the app's ``MAX_CONTENT_LENGTH``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        path: str = args[2] if len(args) > 2 else kwargs["path"]
        json_only = path not in UPLOAD_PATHS
        if json_only:
            kwargs["max_content_length"] = JSON_BODY_LIMIT_BYTES
        super().__init__(*args, **kwargs)
        if json_only:
            self.max_content_length = JSON_BODY_LIMIT_BYTES


class RecceHTTPConnection(TrioASGIHTTPConnection):
    """Quart-Trio's HTTP connection, with two fixes for keep-alive under Hypercorn 0.18.

    - The answer waits (briefly) for the rest of the request body, even one its handler did
      not read (a 404 to a POST): Hypercorn recycles a connection only once the request has
      been read to its end, and otherwise closes it.
    - The last message of a response is sent shielded from cancellation. Sending it makes
      Hypercorn end the exchange, and on the way it tells the app that the request is over,
      at which Quart-Trio cancels the request's tasks, this send included. Unshielded, that
      cancel lands inside Hypercorn's close of the connection, which then never happens: a
      ``Connection: close`` or HTTP/1.0 client, or one whose body was not read, waits for
      ever for the end of the answer.
    """

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        body_read = trio.Event()

        async def receive_noting_end() -> ASGIReceiveEvent:
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_read.set()
            return message

        async def send_ending_cleanly(message: ASGISendEvent) -> None:
            if message["type"] == "http.response.start" and message["status"] != 413:
                with trio.move_on_after(BODY_DRAIN_S):
                    await body_read.wait()
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                with trio.CancelScope(shield=True):
                    await send(message)
            else:
                await send(message)

        await super().__call__(receive_noting_end, send_ending_cleanly)
