"""``/api/info?lineage=full`` on a generated project whose body is streamed in many chunks."""

from __future__ import annotations

import json
from pathlib import Path

import trio

from recce_trio.server.compress import STREAM_CHUNK
from tests.api.helpers import ready_app
from tests.conftest import load_bench_module


async def test_full_lineage_of_a_generated_project_answers_in_one_piece(tmp_path: Path) -> None:
    make_artifacts = load_bench_module("make_artifacts")
    make_artifacts.make_project(tmp_path, 500, seed=0, check=False)
    async with ready_app(tmp_path) as (_, client):
        # Generous: a hang fails the test instead of blocking the run.
        with trio.fail_after(120):
            response = await client.get("/api/info?lineage=full")
            body = await response.get_data()
    assert response.status_code == 200
    # Sent as a stream of many chunks (the case the in-process client used to deadlock on).
    assert len(body) > 12 * STREAM_CHUNK
    lineage = json.loads(body)["lineage"]
    assert {"base", "current", "diff"} <= set(lineage)
    assert len(lineage["current"]["nodes"]) >= 500
    assert lineage["diff"], "the generated project changes some models"
