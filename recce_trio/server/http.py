"""JSON responses for the server: msgspec encoding, shared by the app and every API module."""

from __future__ import annotations

from typing import Any, cast

import msgspec
from quart import Response
from quart.json.provider import JSONProvider


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
