"""What runs beside serving: the first load, then (after a good start) the timers and the
artifact watcher, until serving stops.

Right after ready, a page is usually waiting for ``/api/info`` (it asks before the load ends).
Its body is built first, and the request gets the fast level of its coding; the heavier work
(the name lookups, the kept compression levels, the selector tables, the column lineage map's
child process) starts ``AFTER_ANSWER_REST_S`` after that answer has been sent (or after
``FIRST_ANSWER_WAIT_S`` when no page asks): meanwhile the page asks for its scripts.
"""

from __future__ import annotations

import datetime as dt
import logging

import trio

from recce_trio.server import gateway
from recce_trio.server.api.lineage import build_info, prepare_info
from recce_trio.server.cll_work import fast_switching, run_cll_map
from recce_trio.server.lifecycle import run_startup
from recce_trio.server.runtime import ServerState
from recce_trio.server.watch import watch_artifacts

log = logging.getLogger("recce_trio.server")

# How long the heavier work after ready waits for a page's first /api/info answer.
FIRST_ANSWER_WAIT_S = 0.5
# After that answer, the heavier work waits this long more, while the page unpacks and draws
# what it got (when the browser runs on the same machine, it needs the cores meanwhile).
AFTER_ANSWER_REST_S = 0.5


async def run_beside_serving(state: ServerState) -> None:
    """Started in the app's nursery when serving starts; returns at once after a failed load."""
    async with trio.open_nursery() as nursery:
        # /api/info says whether a dbt profile is configured: read it now, while the load
        # waits for its decoders, rather than after ready with a page waiting.
        nursery.start_soon(state.warehouse.find_profile)
        await run_startup(state)
        # At once, not after the profile's read: the idle and lifetime timers count from ready.
        if state.ready:
            nursery.start_soon(_after_ready, state)
            nursery.start_soon(state.warehouse.connect)  # after readiness, never before
            nursery.start_soon(run_background, state)


async def first_answer(state: ServerState) -> None:
    """Return once an /api/info body has been sent, or ``FIRST_ANSWER_WAIT_S`` after ready."""
    with trio.move_on_after(FIRST_ANSWER_WAIT_S):
        await state.info.answered.wait()


async def _after_ready(state: ServerState) -> None:
    # Until the answer, a thread's Python work (a selection's graph: ~0.5 s at 5,000 models)
    # yields the interpreter to the event loop after 0.5 ms rather than 5, at each of the
    # answer's steps.
    with fast_switching():
        await build_info(state)
        await first_answer(state)
    await trio.sleep(AFTER_ANSWER_REST_S)
    # The name lookups (node id -> name, model name -> id: ~50 ms of Python at 5,000 models,
    # in a worker thread) of the checks and runs requests; not right after the answer, when
    # the page asks for its scripts (each request's thread hops would wait for the
    # interpreter). A request that needs them before makes them itself, off the loop. The
    # thread yields the interpreter to the event loop after 0.5 ms, as before the answer.
    with fast_switching():
        await gateway.run(gateway.FILES, state.session.warm_index)
    await prepare_info(state)  # the kept compression levels, the selector tables


async def run_background(state: ServerState) -> None:
    """The timers and the artifact watcher: started after a successful load, stopped when
    serving stops (``activity.background_scope``)."""
    with state.activity.background_scope:
        async with trio.open_nursery() as nursery:
            arm_timers(state, nursery)
            nursery.start_soon(_cll_map_after_first_answer, state)
            if not state.config.review and state.config.watch:
                nursery.start_soon(watch_artifacts, state)


async def _cll_map_after_first_answer(state: ServerState) -> None:
    await first_answer(state)
    await trio.sleep(AFTER_ANSWER_REST_S)
    await run_cll_map(state)  # the whole project's column lineage


def arm_timers(state: ServerState, nursery: trio.Nursery) -> None:
    """Lifetime and idle timeout, armed only after a successful load (as Recce does)."""
    config = state.config
    activity = state.activity
    if config.lifetime_s > 0:
        activity.lifetime_expired_at = dt.datetime.now(dt.UTC) + dt.timedelta(
            seconds=config.lifetime_s
        )
        nursery.start_soon(_lifetime_timer, state, config.lifetime_s)
    idle = config.effective_idle_timeout_s
    if idle > 0:
        activity.last_activity = trio.current_time()
        nursery.start_soon(_idle_timer, state, idle)


async def _lifetime_timer(state: ServerState, lifetime_s: float) -> None:
    await trio.sleep(lifetime_s)
    log.info("lifetime of %.0f s reached: shutting down", lifetime_s)
    state.activity.request_shutdown()


async def _idle_timer(state: ServerState, idle_s: float) -> None:
    activity = state.activity
    while True:
        assert activity.last_activity is not None
        idle_until = activity.last_activity + idle_s
        if trio.current_time() >= idle_until:
            log.info("idle for %.0f s: shutting down", idle_s)
            activity.request_shutdown()
            return
        await trio.sleep_until(idle_until)  # activity meanwhile moves the end: look again
