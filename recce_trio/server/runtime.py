"""The running server's state: readiness, load progress, what was loaded, and activity."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from recce_trio.config import ServerConfig
from recce_trio.core.artifacts.files import display_names
from recce_trio.core.artifactset import LoadedArtifacts, LoadProgress
from recce_trio.server.perf import StartupPerfTracker

log = logging.getLogger("recce_trio.server")

STARTING, READY, FAILED, TIMED_OUT, STOPPED = "starting", "ready", "failed", "timed_out", "stopped"


def _signal_self() -> None:
    # The default way to stop: what Recce does, and what both `recce-trio server` and the
    # hypercorn CLI turn into a graceful shutdown.
    os.kill(os.getpid(), signal.SIGINT)


@dataclass
class ServerState:
    """Shared by the startup task, the readiness gate and the handlers (all on the trio thread,
    except ``progress`` and ``tracker``, which loader threads write under their own locks)."""

    config: ServerConfig
    progress: LoadProgress = field(default_factory=LoadProgress)
    tracker: StartupPerfTracker = field(default_factory=StartupPerfTracker)
    phase: str = STARTING
    error: BaseException | None = None
    artifacts: LoadedArtifacts | None = None
    review: Any = None  # the precomputed lineage diff and selector index (recce_trio.core.diff)
    ready_event: trio.Event = field(default_factory=trio.Event)
    deadline: float = 0.0
    single_env: bool = False
    lifetime_expired_at: dt.datetime | None = None
    last_activity: float | None = None  # trio time; None until the idle timer is armed
    request_shutdown: Callable[[], None] = _signal_self
    websockets: set[Any] = field(default_factory=set)
    websocket_scopes: set[trio.CancelScope] = field(default_factory=set)
    select_limiter: trio.CapacityLimiter = field(default_factory=lambda: trio.CapacityLimiter(1))
    requests_in_flight: int = 0
    _no_requests: trio.Event = field(default_factory=trio.Event)
    load_scope: trio.CancelScope | None = None
    background_scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    # Decoder processes started before the web stack was imported (see serve.run_server).
    prefetched: dict[str, Any] = field(default_factory=dict)
    artifact_snapshot: Any = None  # the files' stat when the last load began (watch.py)
    session: Any = None  # the checklist and state file (recce_trio.server.session.ReviewSession)

    def stop_loading(self) -> None:
        """Shutdown was asked for: stop a load in progress so held requests are answered now."""
        if self.load_scope is not None and not self.ready_event.is_set():
            self.phase = STOPPED
            self.load_scope.cancel()

    @property
    def ready(self) -> bool:
        return self.phase == READY

    def health(self) -> dict[str, Any]:
        """Recce's health body, plus per-artifact progress. No absolute paths or messages,
        ever: each artifact is named by its folder relative to the project."""
        names = display_names(self.config.target_path, self.config.target_base_path)
        artifacts = self.progress.snapshot()
        for key, entry in artifacts.items():
            entry["path"] = names[key]
        return {
            "status": "ok",
            "ready": self.ready,
            "error": None if self.error is None else type(self.error).__name__,
            "phase": self.phase,
            "single_env": self.single_env,
            "artifacts": artifacts,
        }

    def request_started(self) -> None:
        self.requests_in_flight += 1
        if self._no_requests.is_set():
            self._no_requests = trio.Event()

    def request_finished(self) -> None:
        self.requests_in_flight -= 1
        if self.requests_in_flight == 0:
            self._no_requests.set()

    async def wait_no_requests(self) -> None:
        """Return once no HTTP request is being handled."""
        while self.requests_in_flight > 0:
            await self._no_requests.wait()

    def close_websockets(self) -> None:
        """End every websocket handler (the clients see the connection close)."""
        for scope in list(self.websocket_scopes):
            scope.cancel()

    def touch(self) -> None:
        """Note user activity (resets the idle timer once it is armed)."""
        if self.last_activity is not None:
            self.last_activity = trio.current_time()
