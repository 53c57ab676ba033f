"""The review's lifecycle: load, build the review, swap it in, one function (``refresh``) for
startup, the artifact watcher and ``/api/import``; and the first load (``run_startup``).

One staleness rule: a load that began earlier never replaces one that began later, however
long it took (``ServerState.swap``). One GC policy: the collector is paused while artifacts
are loaded and a review is built (collections over the millions of new objects cost more than
the decode itself), and what is served is frozen out of later collections once swapped in.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import trio

from recce_trio.core.artifactset import LoadedArtifacts
from recce_trio.core.cll.cache import CllCache
from recce_trio.core.review import Review, build_review
from recce_trio.errors import RecceTrioError, StartupTimeoutError
from recce_trio.server import gateway, loading
from recce_trio.server.cll_review import analyse_if_small
from recce_trio.server.cll_work import fast_switching
from recce_trio.server.loading import Snapshot
from recce_trio.server.perf import StartupPerfTracker
from recce_trio.server.runtime import (
    FAILED,
    READY,
    STOPPED,
    TIMED_OUT,
    Served,
    ServerState,
    seconds,
)
from recce_trio.server.session import ReviewSession

log = logging.getLogger("recce_trio.server")


@dataclass
class Candidate:
    """What a load produced: the artifacts, the files' snapshot when it began (None if they did
    not come from the files), and what the review session takes over once it is served."""

    artifacts: LoadedArtifacts
    snapshot: Snapshot | None
    adopt: Callable[[ReviewSession], Awaitable[None]]


class _Collector:
    """Pauses the cyclic GC while any load runs (loads may overlap: an import during a reload)."""

    def __init__(self) -> None:
        self.depth = 0
        self.was_enabled = True

    @contextmanager
    def paused(self) -> Iterator[None]:
        if self.depth == 0:
            self.was_enabled = gc.isenabled()
            gc.disable()
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if self.depth == 0 and self.was_enabled:
                gc.enable()


collector = _Collector()


async def refresh(
    state: ServerState,
    obtain: Callable[[], Awaitable[Candidate]],
    *,
    tracker: StartupPerfTracker | None = None,
    announce: str | None = None,
    derived: bool = False,
) -> bool:
    """Load (``obtain``), build the review, and swap it in. True if it is now served; False if
    a newer load was served meanwhile. Errors propagate: the previous review stays served.
    ``announce`` names the websocket refresh event that tells open pages.

    ``derived``: ``obtain`` builds on the review being served (an import adds the state file's
    newer artifacts to it). Such a load first waits for loads in progress to be served, so
    that it builds on their result rather than on what they replace: otherwise an import
    during a reload would serve the artifacts from before the files changed."""
    if derived:
        await state.loads_settled()
    ticket = state.take_ticket()  # no checkpoint since the wait: nothing began in between
    state.load_began()
    try:
        # Loader threads decode, then one builds: meanwhile the event loop (health probes)
        # gets the interpreter after 0.5 ms of waiting instead of 5 (cll_work's policy).
        with collector.paused(), fast_switching():
            candidate = await obtain()
            review = await gateway.run(
                gateway.REVIEW, _build, candidate.artifacts, tracker, state.cll_cache
            )
            served = Served(review=review, ticket=ticket, snapshot=candidate.snapshot)
            swapped = state.swap(served)
            if swapped:
                # What is served lives until the next swap: keep its millions of objects out
                # of collections, and do it before the collector runs again (a full collection
                # over them holds the interpreter for ~100 ms, which health probes would feel).
                gc.freeze()
    finally:
        state.load_ended()
    if not swapped:
        log.info("a newer load was served while this one ran: dropped")
        return False
    state.review_swapped.set()  # the column lineage map starts again (server.cll_work)
    await candidate.adopt(state.session)
    if announce is not None:
        # Open pages refetch on this event, and their checks and row counts look up node
        # names: work those lookups out first, off the loop (~40 ms at 5,000 models). At
        # startup, the background does it once the first /api/info is answered.
        await gateway.run(gateway.FILES, state.session.warm_index)
        await state.ws.broadcast({"command": "refresh", "event": {"eventType": announce}})
    return True


def _build(
    artifacts: LoadedArtifacts, tracker: StartupPerfTracker | None, cll_cache: CllCache
) -> Review:
    if tracker is None:
        return analyse_if_small(build_review(artifacts, cll_cache=cll_cache))
    tracker.mark_since_start("lineage_diff_start")
    with tracker.timing("lineage_diff", cpu=True):
        review = build_review(artifacts, cll_cache=cll_cache)
    with tracker.timing("change_analysis"):
        return analyse_if_small(review)


# ---- startup ----


async def run_startup(state: ServerState) -> None:
    """The first load, under the startup deadline. Never raises (but for cancellation);
    always sets the ready event."""
    startup = state.startup
    config = state.config
    try:
        with trio.move_on_at(startup.deadline) as scope:
            startup.scope = scope
            await refresh(state, lambda: _first_load(state), tracker=startup.tracker)
        if startup.phase == STOPPED:
            log.info("startup stopped: the server is shutting down")
        elif scope.cancelled_caught:
            startup.phase = TIMED_OUT
            startup.error = StartupTimeoutError(
                f"startup did not complete within {seconds(config.startup_timeout_s)} s.",
                hint="Raise --startup-timeout (RECCE_STARTUP_TIMEOUT) or give the server "
                "more CPU; the load was stopped.",
            )
            startup.progress.fail_unfinished(type(startup.error).__name__)
            log.error("%s", loading.describe_failure(startup.error))
        else:
            startup.phase = READY
            startup.tracker.mark_since_start("startup_total")
            log.info("%s", startup.tracker.summary_line())
    except Exception as exc:
        startup.phase = FAILED
        startup.error = exc
        if isinstance(exc, RecceTrioError):  # an expected failure: its message says it all
            log.error("startup failed: %s", loading.describe_failure(exc))
        else:
            log.exception("startup failed: %s", loading.describe_failure(exc))
    finally:
        startup.ready_event.set()


async def _first_load(state: ServerState) -> Candidate:
    config = state.config
    startup = state.startup
    session = state.session
    # Compare later with the files as they were when the load began, so that a rewrite during
    # the load is not missed by the watcher.
    paths, snapshot = await gateway.run(
        gateway.FILES, loading.scan, config.target_dir, config.target_base_dir
    )
    startup.single_env = paths.single_env and not config.review
    if startup.single_env:
        log.warning(
            "No base environment at %s: starting in single-environment mode (base = current, "
            "so nothing shows as changed). To compare, build the base branch's artifacts into "
            "that folder, e.g. `dbt docs generate --target-path %s`.",
            config.target_base_dir,
            config.target_base_path,
        )
    if config.review:  # the artifacts come from the state file only
        artifacts = await session.load_review(startup.progress)
    else:
        artifacts = await loading.load_artifacts(
            paths,
            progress=startup.progress,
            tracker=startup.tracker,
            decoder=config.loader,
            prefetched=startup.prefetched,
        )
        artifacts = await session.merge_state_file(artifacts, paths)
    await session.finish_load(artifacts)
    return Candidate(artifacts, snapshot, adopt=_adopt_nothing)


async def _adopt_nothing(session: ReviewSession) -> None:
    return None  # finish_load has already taken the first load in
