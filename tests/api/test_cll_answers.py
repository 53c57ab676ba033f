"""``/api/cll`` answers as they go out: compressed as the client accepts, and a repeated
question answered from the kept answer (the reload case is in test_cll_api)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio

from recce_trio.config import DEMO_DIR
from recce_trio.server.cll_answers import encode
from recce_trio.server.cll_work import progress_of
from recce_trio.server.compress import FAST_SIZE
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
    real = wire.cll_json_chunks

    def counting(project: Any, **params: Any) -> Any:
        made.append(params)
        return real(project, **params)

    monkeypatch.setattr(wire, "cll_json_chunks", counting)
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


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [("gzip, br, zstd", "zstd"), ("br", "br"), ("gzip", "gzip"), ("identity", None)],
)
def test_a_large_answer_is_compressed_as_it_comes_and_decodes_to_the_same_json(
    accept: str, wanted: str | None
) -> None:
    # A node's answer at 5,000 models: megabytes, in four sections; zstd compresses each as
    # the next is made. Whatever the coding, the client decodes the answer's bytes.
    entries = [
        json.dumps({f"model.p.m{i}_c{k}": [f"model.p.m{i + 1}_c{j}" for j in range(k)]})[1:-1]
        for i in range(12000)
        for k in range(4)
    ]
    quarter = len(entries) // 4
    parts = [",".join(entries[k : k + quarter]).encode() for k in range(0, len(entries), quarter)]
    chunks = [b"{" + parts[0], *(b"," + part for part in parts[1:]), b"}"]
    whole = b"".join(chunks)
    assert len(whole) > 4 * FAST_SIZE and min(map(len, parts)) > FAST_SIZE
    body, coding = encode(iter(chunks), accept)
    assert coding == (wanted or "identity")
    assert DECODE[wanted](body) == whole
    assert len(body) < len(whole) or wanted is None


def test_a_small_answer_is_coded_by_its_whole_size() -> None:
    # Under FAST_SIZE the smallest coding is preferred; chunks are joined first.
    chunks = [b'{"a":"' + b"x" * 2000, b'"}']
    body, coding = encode(iter(chunks), "gzip, br, zstd")
    assert coding == "br" and DECODE["br"](body) == b"".join(chunks)
    assert encode(iter([b"{}"]), "gzip, br, zstd") == (b"{}", "identity")
