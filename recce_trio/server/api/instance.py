"""Server-level endpoints: health, startup figures, instance info, flags, version, ws."""

from __future__ import annotations

import logging
import platform
from typing import Any

import msgspec
import trio
from quart import Quart, Response, websocket

from recce_trio import __version__
from recce_trio.server.api._http import server_state
from recce_trio.server.http import json_response

log = logging.getLogger("recce_trio.server")


async def health() -> Response:
    return json_response(server_state().health())


async def startup_perf() -> Response:
    state = server_state()
    return json_response({"phase": state.phase, **state.tracker.to_dict()})


async def keep_alive() -> Response:
    state = server_state()
    state.touch()
    return json_response(
        {"status": "ok", "idle_timeout_enabled": state.config.effective_idle_timeout_s > 0}
    )


async def instance_info() -> Response:
    state = server_state()
    info: dict[str, Any] = {
        "server_mode": "server",
        "read_only": state.config.state_file_read_only,
        "preview": False,
        "single_env": state.single_env,
        "authed": False,
        "cloud_instance": False,
        "idle_timeout": int(state.config.effective_idle_timeout_s),
        "python_version": platform.python_version(),
    }
    if state.lifetime_expired_at is not None:
        info["lifetime_expired_at"] = state.lifetime_expired_at.isoformat()
    return json_response(info)


async def flag() -> Response:
    state = server_state()
    return json_response(
        {
            "single_env_onboarding": state.single_env,
            "show_relaunch_hint": state.single_env,
            "preview": False,
            "read_only": state.config.state_file_read_only,
            # Recce 1.69's switches, at its defaults: no CLL cache, no impact analysis on
            # load, the classic column-lineage view, no inline profile (needs a warehouse).
            "disable_cll_cache": True,
            "impact_at_startup": False,
            "new_cll_experience": False,
            "inline_profile": False,
        }
    )


async def relaunch_hint_completed() -> Response:
    return Response("", 204)


async def version() -> Response:
    # Recce asks PyPI for the latest version; recce-trio never calls out, so both are ours.
    return json_response({"version": __version__, "latestVersion": __version__})


_ws_messages = msgspec.json.Decoder(dict[str, Any])


async def ws() -> None:
    """Recce's websocket: answers pings before readiness; the server pushes refresh events."""
    state = server_state()
    await websocket.accept()
    connection = websocket._get_current_object()  # type: ignore[attr-defined]
    state.websockets.add(connection)
    # Shutdown cancels this scope: an open page must not hold the server up.
    with trio.CancelScope() as scope:
        state.websocket_scopes.add(scope)
        try:
            await _serve_websocket()
        finally:
            state.websocket_scopes.discard(scope)
            state.websockets.discard(connection)


async def _serve_websocket() -> None:
    while True:
        message = await websocket.receive()
        if message == "ping":
            await websocket.send("pong")
            continue
        try:
            data = _ws_messages.decode(message)
        except (msgspec.DecodeError, RecursionError):
            log.debug("ignored a websocket message that is not JSON")
            continue
        if data.get("type") == "ping":
            await websocket.send('{"type":"pong"}')
        elif data.get("type") == "cloud_user_context":
            reply = {
                "type": "cloud_user_context_ack",
                "status": "ok",
                "user_login": data.get("user_login"),
            }
            await websocket.send(msgspec.json.encode(reply).decode())


def register(app: Quart) -> None:
    app.add_url_rule("/api/health", view_func=health, methods=["GET"])
    app.add_url_rule("/api/startup-perf", view_func=startup_perf, methods=["GET"])
    app.add_url_rule("/api/keep-alive", view_func=keep_alive, methods=["POST"])
    app.add_url_rule("/api/instance-info", view_func=instance_info, methods=["GET"])
    app.add_url_rule("/api/flag", view_func=flag, methods=["GET"])
    app.add_url_rule(
        "/api/relaunch-hint/completed", view_func=relaunch_hint_completed, methods=["POST"]
    )
    app.add_url_rule("/api/version", view_func=version, methods=["GET"])
    app.add_websocket("/api/ws", view_func=ws)
