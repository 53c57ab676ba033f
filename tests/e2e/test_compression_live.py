"""Compression and ETag/304 through a real Hypercorn, read as raw bytes off the socket."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
import trio
import zstandard
from hypercorn.config import Config
from hypercorn.trio import serve

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app

DECODE = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


@pytest.fixture
async def demo_url(tmp_path: Path, nursery: trio.Nursery) -> AsyncIterator[str]:
    config = Config.from_mapping(
        bind=["127.0.0.1:0"], accesslog=None, errorlog=None, graceful_timeout=1
    )
    stop = trio.Event()
    app = create_app(ServerConfig(project_dir=tmp_path, demo=True))
    binds = await nursery.start(partial(serve, app, config, shutdown_trigger=stop.wait))
    yield binds[0]
    stop.set()


async def raw_get(client: httpx.AsyncClient, path: str, **headers: str) -> tuple[int, Any, bytes]:
    """The body as sent: httpx would otherwise decode it."""
    async with client.stream("GET", path, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.status_code, response.headers, body


async def test_info_negotiation_and_304_over_http(demo_url: str) -> None:
    async with httpx.AsyncClient(base_url=demo_url, timeout=30) as client:
        status, headers, plain = await raw_get(
            client, "/api/info", **{"Accept-Encoding": "identity"}
        )
        assert status == 200 and "content-encoding" not in headers
        info = json.loads(plain)
        assert set(info["lineage"]) >= {"nodes", "edges", "metadata", "schema_coverage"}
        for encoding, decode in DECODE.items():
            status, headers, body = await raw_get(
                client, "/api/info", **{"Accept-Encoding": f"{encoding}, identity;q=0.1"}
            )
            assert status == 200
            assert headers["content-encoding"] == encoding
            assert int(headers["content-length"]) == len(body) < len(plain)
            assert "Accept-Encoding" in headers["vary"]
            assert json.loads(decode(body)) == info
            status, again, body = await raw_get(
                client,
                "/api/info",
                **{"Accept-Encoding": encoding, "If-None-Match": headers["etag"]},
            )
            assert (status, body) == (304, b"")
            assert again["etag"] == headers["etag"]
        # What a browser sends: br wins.
        _, headers, _ = await raw_get(
            client, "/api/info", **{"Accept-Encoding": "gzip, deflate, br, zstd"}
        )
        assert headers["content-encoding"] == "br"
        # Nothing acceptable: plain.
        _, headers, body = await raw_get(
            client, "/api/info", **{"Accept-Encoding": "br;q=0, gzip;q=0, zstd;q=0"}
        )
        assert "content-encoding" not in headers and json.loads(body) == info
        # httpx decodes what it asked for on its own, as any client would.
        decoded = await client.get("/api/info")
        assert decoded.json() == info


async def test_static_file_over_http(demo_url: str) -> None:
    async with httpx.AsyncClient(base_url=demo_url, timeout=30) as client:
        status, headers, body = await raw_get(client, "/style.css", **{"Accept-Encoding": "br"})
        assert status == 200 and headers["content-encoding"] == "br"
        source = Path(__file__).parents[2] / "recce_trio" / "ui" / "style.css"
        assert brotli.decompress(body) == source.read_bytes()
        status, _, body = await raw_get(
            client, "/style.css", **{"Accept-Encoding": "br", "If-None-Match": headers["etag"]}
        )
        assert (status, body) == (304, b"")


async def test_recce_fields_on_the_demo_over_http(demo_url: str) -> None:
    async with httpx.AsyncClient(base_url=demo_url, timeout=30) as client:
        info = (await client.get("/api/info")).json()
        flag = (await client.get("/api/flag")).json()
        instance = (await client.get("/api/instance-info")).json()
        nodes = info["lineage"]["nodes"]
        modified = [uid for uid, n in nodes.items() if n.get("change_status") == "modified"]
        assert modified
        details = [(await client.get(f"/api/models/{uid}")).json()["model"] for uid in modified]
        unknown = await client.get("/api/models/model.demo.no_such_model")
    for node in nodes.values():
        assert node["schema_comparison_status"] in ("complete", "unchecked", "not_applicable")
    # The demo ships both catalogs: every relation on both sides is compared.
    assert info["lineage"]["schema_coverage"]["status"] == "complete"
    assert info["lineage"]["artifact_health"]["current"]["status"] == "complete"
    # The Code tab: at least one modified model's SQL differs between the sides.
    assert any(d["base"]["raw_code"] != d["current"]["raw_code"] for d in details)
    assert all(d["current"]["columns"] for d in details)
    assert unknown.status_code == 200
    assert unknown.json() == {"model": {"base": {}, "current": {}}}
    assert {
        "disable_cll_cache",
        "impact_at_startup",
        "new_cll_experience",
        "inline_profile",
    } <= set(flag)
    assert instance["python_version"].count(".") == 2
