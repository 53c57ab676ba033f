"""What the API handlers share: the session, and reading request bodies and their fields, with
the checks and limits every endpoint applies the same way."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from quart import current_app, request

from recce_trio.errors import InvalidRequestError, PayloadTooLargeError, RequestError
from recce_trio.server.http import too_large_detail
from recce_trio.server.runtime import ServerState
from recce_trio.server.session import ReviewSession

# JSON nested deeper than this is refused (Recce's bodies nest a few levels; a deep one would
# exhaust the decoder's recursion, or a later encoder's).
MAX_JSON_DEPTH = 64
# Free-text fields of checks: a name is a line in a list, a description a page of markdown.
MAX_NAME_CHARS = 1_000
MAX_DESCRIPTION_CHARS = 100_000


def server_state() -> ServerState:
    state: ServerState = current_app.extensions["recce"]
    return state


def session() -> ReviewSession:
    review_session: ReviewSession = server_state().session
    return review_session


async def read_body() -> bytes:
    """The request body, whole; 413 past the path's limit (before reading, when the
    Content-Length says so already)."""
    limit = request.max_content_length
    if limit is not None and request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(too_large_detail(limit))
    data = await request.get_data(cache=True, as_text=False, parse_form_data=False)
    if (
        limit is not None and len(data) > limit
    ):  # no Content-Length (chunked), or an in-process client
        raise PayloadTooLargeError(too_large_detail(limit))
    return data


async def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object. 400 for a body that is not JSON (bad UTF-8 included) or
    nests deeper than ``MAX_JSON_DEPTH``; 422 (as FastAPI answers) for JSON that is not an
    object. Without ``required``, an empty body is ``{}``."""
    data = await read_body()
    if not data.strip() and not required:
        return {}
    value = decode_json(data)
    if not isinstance(value, dict):
        raise InvalidRequestError(
            ["body"], "Input should be a valid dictionary or object", "model_type"
        )
    return value


def decode_json(data: bytes) -> Any:
    """``data`` as JSON, or 400 saying what is wrong with it."""
    try:
        value = msgspec.json.decode(data)
    except RecursionError:
        value = None
        deep = True
    except msgspec.DecodeError as exc:
        raise RequestError(f"The request body is not valid JSON: {exc}.") from None
    else:
        deep = _depth_exceeds(value, MAX_JSON_DEPTH)
    if deep:
        raise RequestError(f"The request body's JSON nests deeper than {MAX_JSON_DEPTH} levels.")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Iterative: a recursive walk is what the limit is there to avoid.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def field(
    body: dict[str, Any], name: str, kinds: type | tuple[type, ...], *, required: bool = False
) -> Any:
    """One body field, type-checked; None when absent (or null) and not required."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidRequestError(["body", name], "Field required", "missing")
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _tuple(kinds)):
        names = "/".join(k.__name__ for k in _tuple(kinds))
        raise InvalidRequestError(["body", name], f"Input should be a valid {names}", "type_error")
    return value


def text_field(body: dict[str, Any], name: str, *, max_chars: int) -> str | None:
    """A string field of at most ``max_chars`` characters (413 beyond)."""
    value: str | None = field(body, name, str)
    if value is not None and len(value) > max_chars:
        raise PayloadTooLargeError(
            f"{name} is too long: {len(value):,} characters, at most {max_chars:,} are accepted."
        )
    return value


def _tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def path_uuid(value: str, name: str) -> str:
    """A path id in canonical form; 422 if it is not a UUID (FastAPI's ``UUID`` parameter)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidRequestError(
            ["path", name], "Input should be a valid UUID", "uuid_parsing"
        ) from None
