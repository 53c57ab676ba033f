"""What the checklist, run and state handlers share: the session, request bodies, Recce's errors."""

from __future__ import annotations

import uuid
from typing import Any

from quart import Response, current_app, request

from recce_trio.server.http import json_response
from recce_trio.server.runtime import ServerState
from recce_trio.server.session import ReviewSession


class HTTPError(Exception):
    """Raised by a handler helper; becomes Recce's ``{"detail": ...}`` body."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def response(self) -> Response:
        return json_response({"detail": self.detail}, self.status)


def server_state() -> ServerState:
    state: ServerState = current_app.extensions["recce"]
    return state


def session() -> ReviewSession:
    review_session: ReviewSession = server_state().session
    return review_session


def _invalid(loc: list[Any], msg: str, kind: str) -> HTTPError:
    # FastAPI's request validation error: 422 with a list of problems.
    return HTTPError(422, [{"type": kind, "loc": loc, "msg": msg}])


async def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object; 422 (as FastAPI answers) if it is missing or not an object."""
    data = await request.get_json(force=True, silent=True)
    if data is None and not required and not await request.get_data():
        return {}
    if not isinstance(data, dict):
        raise _invalid(["body"], "Input should be a valid dictionary or object", "model_type")
    return data


def field(
    body: dict[str, Any], name: str, kinds: type | tuple[type, ...], *, required: bool = False
) -> Any:
    """One body field, type-checked; None when absent (or null) and not required."""
    value = body.get(name)
    if value is None:
        if required:
            raise _invalid(["body", name], "Field required", "missing")
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _tuple(kinds)):
        names = "/".join(k.__name__ for k in _tuple(kinds))
        raise _invalid(["body", name], f"Input should be a valid {names}", "type_error")
    return value


def _tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def path_uuid(value: str, name: str) -> str:
    """A path id in canonical form; 422 if it is not a UUID (FastAPI's ``UUID`` parameter)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _invalid(["path", name], "Input should be a valid UUID", "uuid_parsing") from None
