"""Content negotiation, compression and ETag/304, in-process (the live tests are in tests/e2e)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import brotli
import pytest
import trio
import zstandard

from recce_trio.server.compress import (
    FAST_SIZE,
    choose_encoding,
    choose_for_size,
    compress,
    etag_matches,
    matching_etag,
    parse_accept_encoding,
)
from tests.api.test_startup import running, wait_until_ready
from tests.conftest import load_bench_module

DECODE = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
    None: lambda data: data,
}


async def fetch(client: Any, path: str, **headers: str) -> tuple[int, Any, bytes]:
    response = await client.get(path, headers=headers)
    return response.status_code, response.headers, await response.get_data()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip, zstd", "zstd"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "zstd"),
        ("identity", "identity"),
        ("gzip;q=0.5, identity", "identity"),  # the client prefers it plain
        ("deflate", "identity"),  # nothing we offer
        ("br;q=0, gzip;q=0, zstd;q=0, identity;q=0", "identity"),  # nothing acceptable at all
        ("GZIP;Q=0.8", "gzip"),
        ("gzip;q=bogus, br", "br"),
    ],
)
def test_choose_encoding_honours_q_values(header: str | None, expected: str) -> None:
    assert choose_encoding(header) == expected


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("gzip, deflate, br, zstd", FAST_SIZE, "zstd"),  # large and made per request
        ("gzip, deflate, br, zstd", FAST_SIZE - 1, "br"),  # smaller: the smallest coding
        ("gzip, br", FAST_SIZE, "br"),
        ("br;q=1, zstd;q=0.5", FAST_SIZE, "br"),  # q-values still decide
        ("gzip", FAST_SIZE, "gzip"),
        ("gzip, br, zstd", 1023, "identity"),  # under 1 KB: not worth it
        (None, FAST_SIZE, "identity"),
    ],
)
def test_large_dynamic_bodies_prefer_the_fastest_coding(
    header: str | None, size: int, expected: str
) -> None:
    assert choose_for_size(header, size) == expected


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip"])
def test_the_fast_levels_decode_to_the_same_bytes(encoding: str) -> None:
    data = json.dumps([{"id": f"model.shop.m{i}", "columns": ["a", "b"]} for i in range(20000)])
    raw = data.encode()
    assert DECODE[encoding](compress(raw, encoding, fast=True)) == raw
    assert DECODE[encoding](compress(raw, encoding)) == raw


def test_parse_and_etag_matching() -> None:
    assert parse_accept_encoding("br;q=0.2 , gzip") == {"br": 0.2, "gzip": 1.0}
    assert etag_matches('"abc"', "abc")
    assert etag_matches('W/"abc-gzip", "zzz"', "abc")
    assert etag_matches("*", "abc")
    assert not etag_matches('"abd"', "abc")
    assert not etag_matches(None, "abc")
    # The tag the client named comes back (a 304 names the representation the client has).
    assert matching_etag('"zzz", W/"abc-br-fast"', "abc") == '"abc-br-fast"'
    assert matching_etag("*", "abc") == "*"
    assert matching_etag('"abcd-br"', "abc") is None


@pytest.fixture(scope="module")
def big_info_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated project whose /api/info is over FAST_SIZE (about 300 KB)."""
    out = tmp_path_factory.mktemp("gen500")
    load_bench_module("make_artifacts").make_project(out, 500, seed=2, check=False)
    return out


async def test_a_large_info_asked_before_ready_comes_at_the_fast_level_then_the_kept_one(
    big_info_project: Path,
) -> None:
    async with running(big_info_project) as (app, client):
        # Asked while the artifacts load, as the page does: answered the moment it is ready,
        # without waiting for the kept (slower, smaller) level.
        status, first, fast = await fetch(client, "/api/info", **{"Accept-Encoding": "br"})
        assert status == 200 and first["Content-Encoding"] == "br"
        assert first["ETag"].endswith('-br-fast"')
        _, _, plain = await fetch(client, "/api/info")
        assert len(plain) >= FAST_SIZE
        assert json.loads(brotli.decompress(fast)) == json.loads(plain)
        # The background then makes the kept level: later requests get it, smaller.
        representation = app.extensions["recce"].info.entries["merged"][2]
        with trio.fail_after(30):
            while not representation.ready("br"):  # noqa: ASYNC110
                await trio.sleep(0.05)
        _, kept_headers, kept = await fetch(client, "/api/info", **{"Accept-Encoding": "br"})
        assert kept_headers["ETag"].endswith('-br"') and len(kept) < len(fast)
        assert brotli.decompress(kept) == brotli.decompress(fast)
        # The page that holds the fast one revalidates it: not modified, under its own tag.
        status, again, body = await fetch(
            client, "/api/info", **{"Accept-Encoding": "br", "If-None-Match": first["ETag"]}
        )
        assert (status, body) == (304, b"") and again["ETag"] == first["ETag"]


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
async def test_info_is_compressed_as_accepted_and_decodes_to_the_same_json(
    project: Path, encoding: str
) -> None:
    async with running(project) as (_, client):
        await wait_until_ready(client)
        _, plain_headers, plain = await fetch(client, "/api/info")
        status, headers, body = await fetch(client, "/api/info", **{"Accept-Encoding": encoding})
    assert status == 200
    assert "Content-Encoding" not in plain_headers
    assert headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in headers["Vary"] and "Accept-Encoding" in plain_headers["Vary"]
    assert len(body) < len(plain)
    assert json.loads(DECODE[encoding](body)) == json.loads(plain)
    # One body, several representations: each with its own tag.
    assert headers["ETag"] != plain_headers["ETag"]
    assert headers["ETag"].startswith(plain_headers["ETag"][:-1])


async def test_info_etag_gives_304_until_the_body_changes(project: Path) -> None:
    async with running(project) as (_, client):
        await wait_until_ready(client)
        _, headers, _ = await fetch(client, "/api/info", **{"Accept-Encoding": "br"})
        tag = headers["ETag"]
        assert headers["Cache-Control"] == "no-cache"
        status, not_modified, body = await fetch(
            client, "/api/info", **{"Accept-Encoding": "br", "If-None-Match": tag}
        )
        assert (status, body) == (304, b"")
        assert not_modified["ETag"] == tag and "Content-Encoding" not in not_modified
        # The same body asked for plain: still not modified.
        status, _, _ = await fetch(client, "/api/info", **{"If-None-Match": tag})
        assert status == 304
        status, _, _ = await fetch(client, "/api/info", **{"If-None-Match": '"stale"'})
        assert status == 200
        # The full form is another body.
        status, _, _ = await fetch(client, "/api/info?lineage=full", **{"If-None-Match": tag})
        assert status == 200


async def test_static_files_are_compressed_and_revalidated(project: Path) -> None:
    async with running(project) as (_, client):
        status, headers, body = await fetch(client, "/app.js", **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert "javascript" in headers["Content-Type"]
        plain = (Path(__file__).parents[2] / "recce_trio" / "ui" / "app.js").read_bytes()
        assert gzip.decompress(body) == plain
        status, again, body = await fetch(
            client, "/app.js", **{"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]}
        )
        assert (status, body) == (304, b"")
        assert again["ETag"] == headers["ETag"]
        # The page itself: compressed too, never stored.
        status, page_headers, _ = await fetch(client, "/", **{"Accept-Encoding": "zstd"})
        assert status == 200 and page_headers["Content-Encoding"] == "zstd"
        assert "no-store" in page_headers["Cache-Control"]


async def test_other_json_over_1kb_is_compressed_small_json_is_not(project: Path) -> None:
    async with running(project) as (_, client):
        await wait_until_ready(client)
        _, headers, body = await fetch(
            client, "/api/models/model.shop.orders", **{"Accept-Encoding": "gzip"}
        )
        _, plain_headers, plain = await fetch(client, "/api/models/model.shop.orders")
        _, flag_headers, _ = await fetch(client, "/api/flag", **{"Accept-Encoding": "gzip"})
    if len(plain) >= 1024:
        assert headers["Content-Encoding"] == "gzip"
        assert json.loads(gzip.decompress(body)) == json.loads(plain)
    else:
        assert "Content-Encoding" not in headers
    assert "Content-Encoding" not in flag_headers  # under 1 KB: not worth it
    assert "Content-Encoding" not in plain_headers
