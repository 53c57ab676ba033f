"""`create_app(config)`: the Quart-Trio app with its background load and readiness gate."""

from __future__ import annotations

import logging

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from quart import request
from quart_trio import QuartTrio

from recce_trio.config import ServerConfig
from recce_trio.errors import NotReadyError
from recce_trio.server.background import run_beside_serving
from recce_trio.server.http import (
    MsgspecJSONProvider,
    RecceHTTPConnection,
    RecceRequest,
    handle_error,
)
from recce_trio.server.runtime import FAILED, READY, STOPPED, ServerState, seconds

log = logging.getLogger("recce_trio.server")

UNGATED_PATHS = frozenset({"/api/health", "/api/ws", "/api/startup-perf"})
# The gate waits on the loader, which wakes it at its own deadline; this is only a backstop.
GATE_BACKSTOP_S = 1.0


class RecceApp(QuartTrio):
    asgi_http_class = RecceHTTPConnection
    json_provider_class = MsgspecJSONProvider
    request_class = RecceRequest

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # A request is in flight until its whole response has been handed to the socket (a
        # streamed body takes a slow reader seconds): the graceful shutdown waits for it.
        activity = self.extensions["recce"].activity
        activity.request_started()
        try:
            await super().__call__(scope, receive, send)
        finally:
            activity.request_finished()


def create_app(config: ServerConfig, *, state: ServerState | None = None) -> RecceApp:
    """Build the app. Nothing is read from disk here: the load starts when serving starts."""
    app = RecceApp(__name__, static_folder=None)
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 1
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None
    server_state = state or ServerState(config)
    app.extensions["recce"] = server_state

    @app.before_serving
    async def start_loading() -> None:
        server_state.startup.deadline = trio.current_time() + config.startup_timeout_s
        # Started, not awaited: serving begins at once and the load runs beside it.
        app.nursery.start_soon(run_beside_serving, server_state)

    @app.after_serving
    async def stop_background() -> None:
        server_state.activity.background_scope.cancel()
        for task in list(server_state.session.running.values()):
            task.cancel()  # the runs' statements are interrupted on the connection
        await server_state.warehouse.close()

    @app.before_request
    async def readiness_gate() -> None:
        path = request.path
        if path not in ("/api/health", "/api/ws"):
            server_state.touch()
        if not path.startswith("/api/") or path in UNGATED_PATHS:
            return None
        if not server_state.ready_event.is_set():
            with trio.move_on_at(server_state.startup.deadline + GATE_BACKSTOP_S):
                await server_state.ready_event.wait()
        if server_state.phase == READY:
            return None
        if server_state.phase == STOPPED:
            raise NotReadyError("Server is shutting down.")
        if server_state.phase == FAILED:
            raise NotReadyError("Server startup failed. Check server logs for details.")
        timeout = seconds(config.startup_timeout_s)
        raise NotReadyError(f"Server startup did not complete within {timeout}s.")

    # Every error, whatever raised it, is written by this one handler.
    app.register_error_handler(Exception, handle_error)

    from recce_trio.server.api import register_routes

    register_routes(app)
    return app
