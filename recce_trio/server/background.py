"""What runs beside serving: the first load, then (after a good start) the timers and the
artifact watcher, until serving stops."""

from __future__ import annotations

import datetime as dt
import logging

import trio

from recce_trio.server import gateway
from recce_trio.server.api.lineage import prepare_info
from recce_trio.server.cll_work import run_cll_map
from recce_trio.server.lifecycle import run_startup
from recce_trio.server.runtime import ServerState
from recce_trio.server.warehouse import profiles_layer
from recce_trio.server.watch import watch_artifacts

log = logging.getLogger("recce_trio.server")


async def run_beside_serving(state: ServerState) -> None:
    """Started in the app's nursery when serving starts; returns at once after a failed load."""
    async with trio.open_nursery() as nursery:
        # /api/info waits, after ready, to know whether a profile is configured: import the
        # (light) module that reads it now, while the load waits for its decoders.
        nursery.start_soon(_import_profiles_layer)
        await run_startup(state)
    if state.ready:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_prepare, state)
            nursery.start_soon(state.warehouse.connect)  # after readiness, never before
            nursery.start_soon(run_background, state)


async def _prepare(state: ServerState) -> None:
    await prepare_info(state)  # compress /api/info once, off the loop
    await gateway.run(gateway.FILES, state.session.warm_index)  # then the name lookups


async def _import_profiles_layer() -> None:
    try:
        await gateway.run(gateway.FILES, profiles_layer)
    except Exception:  # the warehouse service imports it again, and reports what fails
        log.debug("could not import the profiles layer ahead of ready", exc_info=True)


async def run_background(state: ServerState) -> None:
    """The timers and the artifact watcher: started after a successful load, stopped when
    serving stops (``activity.background_scope``)."""
    with state.activity.background_scope:
        async with trio.open_nursery() as nursery:
            arm_timers(state, nursery)
            nursery.start_soon(run_cll_map, state)  # the whole project's column lineage
            if not state.config.review and state.config.watch:
                nursery.start_soon(watch_artifacts, state)


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
