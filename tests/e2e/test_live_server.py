"""A real Hypercorn on 127.0.0.1:0 and a real HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app


@pytest.fixture
async def live_url(project: Path, nursery: trio.Nursery) -> AsyncIterator[str]:
    config = Config.from_mapping(
        bind=["127.0.0.1:0"], accesslog=None, errorlog=None, graceful_timeout=1
    )
    stop = trio.Event()
    app = create_app(ServerConfig(project_dir=project))
    binds = await nursery.start(partial(serve, app, config, shutdown_trigger=stop.wait))
    yield binds[0]
    stop.set()


async def test_health_then_gated_api_over_http(live_url: str) -> None:
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        health = await client.get("/api/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        # A gated request waits for the load and then succeeds.
        flag = await client.get("/api/flag")
        assert flag.status_code == 200
        health = (await client.get("/api/health")).json()
        assert health["ready"] is True
        page = await client.get("/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]


async def test_many_concurrent_probes_during_load_all_answer(live_url: str) -> None:
    results: list[int] = []
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:

        async def probe() -> None:
            results.append((await client.get("/api/health")).status_code)

        async with trio.open_nursery() as nursery:
            for _ in range(50):
                nursery.start_soon(probe)
    assert results == [200] * 50
