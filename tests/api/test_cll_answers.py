"""``/api/cll`` answers as they go out: compressed as the client accepts, and a repeated
question answered from the kept answer (the reload case is in test_cll_api)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio

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
