"""`create_app(config)`: the Quart-Trio app with its background load and readiness gate."""

from __future__ import annotations

import datetime as dt
import gc
import logging
from typing import Any

import trio
from quart import request
from quart_trio import QuartTrio

from recce_trio.config import ServerConfig
from recce_trio.core.artifacts.files import ArtifactPaths
from recce_trio.errors import NotReadyError, RecceTrioError, StartupTimeoutError
from recce_trio.server import loading
from recce_trio.server.http import (
    MsgspecJSONProvider,
    RecceHTTPConnection,
    RecceRequest,
    handle_error,
)
from recce_trio.server.runtime import FAILED, READY, STOPPED, TIMED_OUT, ServerState

log = logging.getLogger("recce_trio.server")

UNGATED_PATHS = frozenset({"/api/health", "/api/ws", "/api/startup-perf"})
# The gate waits on the loader, which wakes it at its own deadline; this is only a backstop.
GATE_BACKSTOP_S = 1.0


class RecceApp(QuartTrio):
    asgi_http_class = RecceHTTPConnection
    json_provider_class = MsgspecJSONProvider
    request_class = RecceRequest


def create_app(config: ServerConfig, *, state: ServerState | None = None) -> RecceApp:
    """Build the app. Nothing is read from disk here: the load starts when serving starts."""
    app = RecceApp(__name__, static_folder=None)
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 1
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None
    server_state = state or ServerState(config=config)
    if server_state.session is None:
        from recce_trio.server.session import ReviewSession

        server_state.session = ReviewSession(config)
    app.extensions["recce"] = server_state

    @app.before_serving
    async def start_loading() -> None:
        server_state.deadline = trio.current_time() + config.startup_timeout_s
        # Started, not awaited: serving begins at once and the load runs beside it.
        app.nursery.start_soon(run_startup, server_state, app.nursery)

    @app.after_serving
    async def stop_background() -> None:
        server_state.background_scope.cancel()

    @app.before_request
    async def readiness_gate() -> None:
        server_state.request_started()  # ended by count_finished below, whatever happens
        path = request.path
        if path not in ("/api/health", "/api/ws"):
            server_state.touch()
        if not path.startswith("/api/") or path in UNGATED_PATHS:
            return None
        if not server_state.ready_event.is_set():
            with trio.move_on_at(server_state.deadline + GATE_BACKSTOP_S):
                await server_state.ready_event.wait()
        if server_state.phase == READY:
            return None
        if server_state.phase == STOPPED:
            raise NotReadyError("Server is shutting down.")
        if server_state.phase == FAILED:
            raise NotReadyError("Server startup failed. Check server logs for details.")
        raise NotReadyError(
            f"Server startup did not complete within {config.startup_timeout_s:.0f}s."
        )

    @app.teardown_request
    async def count_finished(exc: BaseException | None) -> None:
        server_state.request_finished()

    # Every error, whatever raised it, is written by this one handler.
    app.register_error_handler(Exception, handle_error)

    from recce_trio.server.api import register_routes

    register_routes(app)
    return app


async def run_startup(state: ServerState, nursery: trio.Nursery) -> None:
    """The background load. Never raises (but for cancellation); always sets ``ready_event``."""
    config = state.config
    try:
        with trio.move_on_at(state.deadline) as scope:
            state.load_scope = scope
            await _load_and_build(state)
        if state.phase == STOPPED:
            log.info("startup stopped: the server is shutting down")
        elif scope.cancelled_caught:
            state.phase = TIMED_OUT
            state.error = StartupTimeoutError(
                f"startup did not complete within {config.startup_timeout_s:.0f} s.",
                hint="Raise --startup-timeout (RECCE_STARTUP_TIMEOUT) or give the server "
                "more CPU; the load was stopped.",
            )
            state.progress.fail_unfinished(type(state.error).__name__)
            log.error("%s", loading.describe_failure(state.error))
        else:
            state.phase = READY
            state.tracker.mark_since_start("startup_total")
            log.info("%s", state.tracker.summary_line())
            nursery.start_soon(run_background, state)
            from recce_trio.server.api.lineage import prepare_info

            nursery.start_soon(prepare_info, state)  # compress /api/info once, off the loop
    except Exception as exc:
        state.phase = FAILED
        state.error = exc
        if isinstance(exc, RecceTrioError):  # an expected failure: its message says it all
            log.error("startup failed: %s", loading.describe_failure(exc))
        else:
            log.exception("startup failed: %s", loading.describe_failure(exc))
    finally:
        state.ready_event.set()


async def _load_and_build(state: ServerState) -> None:
    config = state.config
    from recce_trio.server.watch import snapshot

    state.artifact_snapshot = await trio.to_thread.run_sync(snapshot, state)
    paths = ArtifactPaths.from_dirs(config.target_dir, config.target_base_dir)
    state.single_env = paths.single_env and not config.review
    if state.single_env:
        log.warning(
            "No base environment at %s: starting in single-environment mode (base = current, "
            "so nothing shows as changed). To compare, build the base branch's artifacts into "
            "that folder, e.g. `dbt docs generate --target-path %s`.",
            config.target_base_dir,
            config.target_base_path,
        )
    # Collections over the millions of objects being built cost more than the decode itself.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    session = state.session
    try:
        if config.review:  # the artifacts come from the state file only
            state.artifacts = await session.load_review(state.progress)
        else:
            state.artifacts = await loading.load_artifacts(
                paths,
                progress=state.progress,
                tracker=state.tracker,
                decoder=config.loader,
                prefetched=state.prefetched,
            )
            state.artifacts = await session.merge_state_file(state.artifacts, paths)
        await session.finish_load(state.artifacts)
        state.review = await trio.to_thread.run_sync(_build_review, state, abandon_on_cancel=True)
    finally:
        if gc_was_enabled:
            gc.enable()
    gc.freeze()  # what was loaded lives as long as the server: keep it out of collections


def _build_review(state: ServerState) -> Any:
    """Compute the lineage diff once, in a worker thread, before the API opens."""
    from recce_trio.core.review import build_review

    assert state.artifacts is not None
    with state.tracker.timing("lineage_diff"):
        return build_review(state.artifacts)


async def run_background(state: ServerState) -> None:
    """The timers and the artifact watcher: started after a successful load, stopped when
    serving stops (``state.background_scope``)."""
    with state.background_scope:
        async with trio.open_nursery() as nursery:
            arm_timers(state, nursery)
            if not state.config.review and state.config.watch:
                from recce_trio.server.watch import watch_artifacts

                nursery.start_soon(watch_artifacts, state)


def arm_timers(state: ServerState, nursery: trio.Nursery) -> None:
    """Lifetime and idle timeout, armed only after a successful load (as Recce does)."""
    config = state.config
    if config.lifetime_s > 0:
        state.lifetime_expired_at = dt.datetime.now(dt.UTC) + dt.timedelta(
            seconds=config.lifetime_s
        )
        nursery.start_soon(_lifetime_timer, state, config.lifetime_s)
    idle = config.effective_idle_timeout_s
    if idle > 0:
        state.last_activity = trio.current_time()
        nursery.start_soon(_idle_timer, state, idle)


async def _lifetime_timer(state: ServerState, lifetime_s: float) -> None:
    await trio.sleep(lifetime_s)
    log.info("lifetime of %.0f s reached: shutting down", lifetime_s)
    state.request_shutdown()


async def _idle_timer(state: ServerState, idle_s: float) -> None:
    check_interval = min(30.0, max(1.0, idle_s // 3), idle_s)
    while True:
        await trio.sleep(check_interval)
        assert state.last_activity is not None
        if trio.current_time() - state.last_activity >= idle_s:
            log.info("idle for %.0f s: shutting down", idle_s)
            state.request_shutdown()
            return
