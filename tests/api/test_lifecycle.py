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


async def test_an_import_during_a_reload_builds_on_the_reloaded_artifacts(project: Path) -> None:
    """An import adds the state file's newer artifacts to what is served. Begun while a reload
    of changed files is still loading, it must build on the reload's result: building on the
    review the reload replaces would serve the artifacts from before the files changed."""
    async with running(project) as (app, client):
        await wait_until_ready(client)
        state = app.extensions["recce"]
        artifacts = state.artifacts
        reload_may_finish = trio.Event()
        import_saw: list[object] = []
        reload_served: list[object] = []
        results: dict[str, bool] = {}

        async def reload_adopt(session: ReviewSession) -> None:
            reload_served.append(state.review)  # called right after the reload's swap

        async def reload_from_files() -> Candidate:
            await reload_may_finish.wait()
            return Candidate(artifacts, None, reload_adopt)

        async def import_state() -> Candidate:
            import_saw.append(state.review)  # what the import builds on
            return Candidate(artifacts, None, _adopt_nothing)

        async def run_reload() -> None:
            results["reload"] = await refresh(state, reload_from_files)

        async def run_import() -> None:
            results["import"] = await refresh(state, import_state, derived=True)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_reload)
            await wait_all_tasks_blocked()  # the reload has begun, and waits for its files
            nursery.start_soon(run_import)
            await wait_all_tasks_blocked()
            assert import_saw == []  # the import waits for the reload to be served
            reload_may_finish.set()
    assert results == {"reload": True, "import": True}
    assert len(reload_served) == 1
    assert import_saw == reload_served
    assert state.review is not reload_served[0]  # the import's review is served last


async def _adopt_nothing(session: ReviewSession) -> None:
    return None
