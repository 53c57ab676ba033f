"""Run the app under Hypercorn until SIGINT/SIGTERM, with a progress display of the load."""

from __future__ import annotations

import errno
import logging
import signal
import sys
from functools import partial
from typing import TextIO

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve

from recce_trio.config import ServerConfig
from recce_trio.core.artifactset import FAILED, LOADED, LOADING, MISSING, PENDING
from recce_trio.server.app import RecceApp, create_app
from recce_trio.server.decoders import DecoderProcess
from recce_trio.server.runtime import READY, STOPPED, ServerState

log = logging.getLogger("recce_trio.server")

SHUTDOWN_SIGNALS = {signal.SIGINT, signal.SIGTERM}
PROGRESS_INTERVAL_S = 0.2
IDLE_CONNECTION_GRACE_S = 0.2


def run_server(
    config: ServerConfig,
    hypercorn: HypercornConfig,
    *,
    prefetched: dict[str, DecoderProcess] | None = None,
) -> int:
    """Serve until a signal or a timer stops it. Returns the process exit code."""
    state = ServerState(config, prefetched=prefetched)
    app = create_app(config, state=state)
    try:
        trio.run(_serve_until_stopped, app, hypercorn, state)
    except BaseExceptionGroup as group:
        matched, _rest = group.split(OSError)
        if matched is None:
            raise
        exc = _first_leaf(matched)
        if getattr(exc, "errno", None) == errno.EADDRINUSE:
            print(
                f"Error: {', '.join(hypercorn.bind)} is already in use. "
                "Stop the other server or pick another --port (0 picks a free one).",
                file=sys.stderr,
            )
        else:
            print(f"Error: cannot listen on {', '.join(hypercorn.bind)}: {exc}", file=sys.stderr)
        return 1
    finally:
        for decoder in state.startup.prefetched.values():  # not taken by a loader
            decoder.close()
    if state.session.final_save_failed:
        print(
            "Error: the review could not be saved to the state file at shutdown; the log "
            "above says why. Changes since the last successful save are lost.",
            file=sys.stderr,
        )
        return 1
    return 0


def _first_leaf(group: BaseExceptionGroup[OSError]) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def _serve_until_stopped(
    app: RecceApp, hypercorn: HypercornConfig, state: ServerState
) -> None:
    stop = trio.Event()  # a signal or a timer asks to stop
    stop_serving = trio.Event()  # Hypercorn's own trigger, pulled once requests are done
    state.activity.request_shutdown = stop.set
    async with trio.open_nursery() as nursery:
        await nursery.start(_watch_signals, stop)
        binds = await nursery.start(
            partial(serve, app, hypercorn, shutdown_trigger=stop_serving.wait)
        )
        for url in binds:
            print(
                f"recce-trio {'demo ' if state.config.demo else ''}serving on {url}",
                file=sys.stderr,
            )
        sys.stderr.flush()
        nursery.start_soon(show_progress, state, sys.stderr)
        await stop.wait()
        log.info("shutting down: finishing requests in flight")
        state.stop_loading()  # requests waiting for the load get their 503 now
        state.ws.close_all()
        # Hypercorn 0.18 (trio worker) keeps its graceful timeout running for idle keep-alive
        # connections too, so a browser tab would hold every shutdown for the whole timeout.
        # Drain the requests in flight here, then let Hypercorn close what is left at once.
        with trio.move_on_after(hypercorn.graceful_timeout):
            await state.activity.wait_no_requests()
        hypercorn.graceful_timeout = IDLE_CONNECTION_GRACE_S
        stop_serving.set()
    # serve() returned: requests drained, connections closed and the lifespan shut down.


async def _watch_signals(stop: trio.Event, *, task_status: trio.TaskStatus[None]) -> None:
    with trio.open_signal_receiver(*SHUTDOWN_SIGNALS) as received:
        task_status.started()
        async for signum in received:
            log.info("received %s", signal.Signals(signum).name)
            stop.set()
            return


_SYMBOLS = {PENDING: "·", LOADING: "…", LOADED: "✓", MISSING: "–", FAILED: "✗"}


def render_progress(state: ServerState) -> str:
    """One line: each artifact's state, size and time."""
    parts = []
    for key, item in state.startup.progress.snapshot().items():
        text = f"{key} {_SYMBOLS.get(item['state'], '?')}"
        if item["bytes"] is not None:
            text += f" {item['bytes'] / 1e6:.1f} MB"
        if item["seconds"] is not None:
            text += f" {item['seconds']:.2f}s"
        parts.append(text)
    return "loading: " + " | ".join(parts)


async def show_progress(state: ServerState, stream: TextIO) -> None:
    """Live progress on a terminal; a line per change otherwise (e.g. in a CI log)."""
    tty = stream.isatty()
    last = ""
    while not state.ready_event.is_set():
        line = render_progress(state)
        if line != last:
            stream.write(f"\r\x1b[2K{line}" if tty else f"{line}\n")
            stream.flush()
            last = line
        with trio.move_on_after(PROGRESS_INTERVAL_S):
            await state.ready_event.wait()
    if tty:
        stream.write("\r\x1b[2K")
    if state.phase == STOPPED:
        stream.write(f"{render_progress(state)}\nstartup stopped: shutting down\n")
    elif state.phase == READY:
        total = state.tracker.to_dict()["timings"] or {}
        stream.write(
            f"{render_progress(state)}\nready in {total.get('startup_total', 0) / 1000:.2f} s\n"
        )
    else:
        error = state.startup.error
        name = type(error).__name__ if error else "unknown error"
        stream.write(
            f"{render_progress(state)}\nstartup failed ({name}); the log above says why. "
            "The server stays up: /api/health reports the error and the API answers 503.\n"
        )
    stream.flush()
