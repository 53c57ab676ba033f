"""``/api/cll`` answers as they go out: compressed as the client accepts, and a repeated
question answered from the kept answer (the reload case is in test_cll_api)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import trio
import zstandard

from recce_trio.config import DEMO_DIR
from recce_trio.server.cll_work import progress_of
from tests.api.helpers import ready_app
from tests.api.test_compression import DECODE

ORDERS = "model.oracle_shop.orders"


async def ask(client: Any, body: dict[str, Any], accept: str | None) -> tuple[str | None, bytes]:
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    response = await client.post("/api/cll", json=body, headers=headers)
    assert response.status_code == 200
    assert "Accept-Encoding" in response.headers.get("Vary", "")
    return response.headers.get("Content-Encoding"), await response.get_data()


async def test_answers_are_compressed_as_accepted_and_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from recce_trio.core.cll import wire

    made: list[dict[str, Any]] = []
    real = wire.cll_json

    def counting(project: Any, **params: Any) -> bytes:
        made.append(params)
        return real(project, **params)

    monkeypatch.setattr(wire, "cll_json", counting)
    async with ready_app(DEMO_DIR, demo=True) as (app, client):
        with trio.fail_after(30):
            await progress_of(app.extensions["recce"]).finished.wait()
        coding, plain = await ask(client, {"node_id": ORDERS}, None)
        assert coding is None
        expected = json.loads(plain)
        assert len(plain) >= 1024  # large enough to be compressed
        for accept, wanted in [
            ("gzip", "gzip"),
            ("br", "br"),
            ("gzip, br, zstd", "br"),  # under 256 KB: the smallest coding first
            ("zstd;q=0.5, gzip", "gzip"),
            ("identity", None),
        ]:
            coding, body = await ask(client, {"node_id": ORDERS}, accept)
            assert coding == wanted, accept
            assert json.loads(DECODE[coding](body)) == expected
        asked = len(made)
        coding, again = await ask(client, {"node_id": ORDERS}, "br")
        assert len(made) == asked  # the kept answer
        assert coding == "br" and json.loads(DECODE["br"](again)) == expected
        # Other params are another question.
        await ask(client, {"node_id": ORDERS, "no_upstream": True}, "br")
        assert len(made) == asked + 1


def _answer(count: int) -> bytes:
    """A column-lineage-like JSON answer of about ``count`` * 48 bytes."""
    ids = [f'"model.shop.m{i}_col{i % 17}":["model.shop.p{i}_c{i % 5}"]' for i in range(count)]
    return ('{"current":{"parent_map":{' + ",".join(ids) + "}}}").encode()


@pytest.mark.parametrize(
    ("count", "accept", "wanted"),
    [
        (12_000, "gzip, deflate, br, zstd", "zstd"),  # ~580 KB
        (12_000, "gzip, deflate, br", "br"),
        (12_000, None, None),
        (2_000, "gzip, deflate, br, zstd", "zstd"),  # ~96 KB: made per request, zstd first
        (200, "gzip, deflate, br, zstd", "br"),  # ~10 KB: the smallest coding
    ],
)
def test_a_node_answer_is_compressed_as_clients_read_it(
    count: int, accept: str | None, wanted: str | None
) -> None:
    from recce_trio.server.cll_answers import encode

    expected = _answer(count)
    body, coding = encode(expected, accept)
    assert (coding if coding != "identity" else None) == wanted
    # httpx (the bench's and many scripts' client) and a streaming decoder, as browsers
    # read zstd, give the whole answer back.
    response = httpx.Response(200, headers={"Content-Encoding": coding}, content=body)
    assert response.content == expected
    if coding == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(body, read_across_frames=True)
        assert reader.read() == expected
    json.loads(expected)
