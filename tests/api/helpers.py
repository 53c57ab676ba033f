"""Running the app in-process for the checklist, run and state tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app


@asynccontextmanager
async def ready_app(project: Path, **settings: Any) -> AsyncIterator[tuple[Any, Any]]:
    """The app with its lifespan running, once the load has ended (ready or failed)."""
    settings.setdefault("loader", "thread")
    app = create_app(ServerConfig(project_dir=project, **settings))
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
