"""One lifecycle: a load that began earlier never replaces one that began later."""

from __future__ import annotations

from pathlib import Path

import trio
from trio.testing import wait_all_tasks_blocked

from recce_trio.server.lifecycle import Candidate, refresh
from recce_trio.server.session import ReviewSession
from tests.api.test_startup import running, wait_until_ready


async def test_a_slower_older_load_never_replaces_a_newer_one(project: Path) -> None:
    async with running(project) as (app, client):
        await wait_until_ready(client)
        state = app.extensions["recce"]
        artifacts = state.artifacts
        adopted: list[str] = []
        older_may_finish = trio.Event()
        results: dict[str, bool] = {}

        def candidate(name: str) -> Candidate:
            async def adopt(session: ReviewSession) -> None:
                adopted.append(name)

            return Candidate(artifacts, None, adopt)

        async def older() -> Candidate:
            await older_may_finish.wait()
            return candidate("older")

        async def newer() -> Candidate:
            return candidate("newer")

        async def run_older() -> None:
            results["older"] = await refresh(state, older)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_older)
            await wait_all_tasks_blocked()  # the older load has begun, and waits
            results["newer"] = await refresh(state, newer)
            served_by_newer = state.review
            older_may_finish.set()
    assert results == {"newer": True, "older": False}
    assert state.review is served_by_newer
    assert adopted == ["newer"]
