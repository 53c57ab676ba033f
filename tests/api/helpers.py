"""Running the app in-process for the checklist, run and state tests."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio
from quart_trio.testing import TrioClient
from quart_trio.testing.connections import TestHTTPConnection

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app


class _DrainedHTTPConnection(TestHTTPConnection):
    """Quart-Trio's test connection keeps the body chunks in a channel of 10 and reads them
    only once the app has finished: a response streamed in more chunks (``/api/info`` of
    a few megabytes, sent 256 KB at a time) waits forever for a reader. Here the channel is
    unbounded, as a socket's reader would be."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client_send, self._client_receive = trio.open_memory_channel[bytes | Exception](
            math.inf
        )


class DrainedClient(TrioClient):
    http_connection_class = _DrainedHTTPConnection


def use_drained_client(app: Any) -> Any:
    """Make ``app.test_client()`` one that takes streamed bodies of any length."""
    app.test_client_class = DrainedClient
    return app


@asynccontextmanager
async def ready_app(project: Path, **settings: Any) -> AsyncIterator[tuple[Any, Any]]:
    """The app with its lifespan running, once the load has ended (ready or failed)."""
    settings.setdefault("loader", "thread")
    app = use_drained_client(create_app(ServerConfig(project_dir=project, **settings)))
    async with app.test_app() as test_app:
        with trio.fail_after(30):
            await app.extensions["recce"].ready_event.wait()
        yield app, test_app.test_client()


async def call(client: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    kwargs = {} if body is None else {"json": body}
    response = await getattr(client, method)(path, **kwargs)
    data = await response.get_data()
    try:
        return response.status_code, json.loads(data) if data else None
    except ValueError:
        return response.status_code, data.decode()
