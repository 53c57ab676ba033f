"""The running server's state, in groups that each have one owner: the startup load, the review
being served (with its /api/info bodies), the review session, the requests and timers, and the
open websockets."""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
import trio

from recce_trio.config import ServerConfig
from recce_trio.core.artifactset import LoadedArtifacts, LoadProgress
from recce_trio.core.cll.cache import CllCache
from recce_trio.core.review import Review
from recce_trio.server.decoders import DecoderProcess
from recce_trio.server.infocache import InfoCache
from recce_trio.server.loading import Snapshot
from recce_trio.server.perf import StartupPerfTracker
from recce_trio.server.session import ReviewSession
from recce_trio.server.warehouse import WarehouseService

STARTING, READY, FAILED, TIMED_OUT, STOPPED = "starting", "ready", "failed", "timed_out", "stopped"


def _signal_self() -> None:
    # The default way to stop: what Recce does, and what both `recce-trio server` and the
    # hypercorn CLI turn into a graceful shutdown.
    os.kill(os.getpid(), signal.SIGINT)


def seconds(value: float) -> str:
    """A duration as given, without a float's noise: 300.0 -> "300", 0.5 -> "0.5"."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


@dataclass
class Startup:
    """The first load. Written by the startup task (``lifecycle.run_startup``) only; the
    loader threads write ``progress`` and ``tracker`` under their own locks."""

    progress: LoadProgress = field(default_factory=LoadProgress)
    tracker: StartupPerfTracker = field(default_factory=StartupPerfTracker)
    phase: str = STARTING
    error: BaseException | None = None
    ready_event: trio.Event = field(default_factory=trio.Event)
    deadline: float = 0.0
    single_env: bool = False  # what the folders said when the load began
    scope: trio.CancelScope | None = None
    # Decoder processes started before the web stack was imported (see serve.run_server).
    prefetched: dict[str, DecoderProcess] = field(default_factory=dict)


@dataclass(frozen=True)
class Served:
    """A review being served and where it came from; replaced as a whole (``ServerState.swap``)."""

    review: Review
    ticket: int  # the order in which its load began
    snapshot: Snapshot | None  # the artifact files when its load began; None if not from files


class Listener(Protocol):
    async def send(self, data: str) -> None: ...


@dataclass
class Activity:
    """Requests in flight and the timers. The app's request hooks count and touch; the
    timers (``lifecycle``) arm and read; ``serve`` sets ``request_shutdown``."""

    request_shutdown: Callable[[], None] = _signal_self
    lifetime_expired_at: dt.datetime | None = None
    last_activity: float | None = None  # trio time; None until the idle timer is armed
    in_flight: int = 0
    _no_requests: trio.Event = field(default_factory=trio.Event)
    background_scope: trio.CancelScope = field(default_factory=trio.CancelScope)

    def request_started(self) -> None:
        self.in_flight += 1
        if self._no_requests.is_set():
            self._no_requests = trio.Event()

    def request_finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._no_requests.set()

    async def wait_no_requests(self) -> None:
        """Return once no HTTP request is being handled or its response sent."""
        while self.in_flight > 0:
            await self._no_requests.wait()

    def touch(self) -> None:
        """Note user activity (resets the idle timer once it is armed)."""
        if self.last_activity is not None:
            self.last_activity = trio.current_time()


@dataclass
class Websockets:
    """The open ``/api/ws`` connections; registered and removed by the websocket handler."""

    connections: set[Listener] = field(default_factory=set)
    scopes: set[trio.CancelScope] = field(default_factory=set)

    async def broadcast(self, message: dict[str, Any]) -> None:
        """Send ``message`` to every open websocket; a closed one is dropped."""
        text = msgspec.json.encode(message).decode()
        for connection in list(self.connections):
            try:
                await connection.send(text)
            except Exception:  # a client that went away: its handler unregisters it
                self.connections.discard(connection)

    def close_all(self) -> None:
        """End every websocket handler (the clients see the connection close)."""
        for scope in list(self.scopes):
            scope.cancel()


@dataclass
class CllMapProgress:
    """The background map of the review being served (read by /api/cll and the log)."""

    state: str = "idle"  # idle | running | done | failed | cancelled
    done: int = 0
    total: int = 0
    elapsed_s: float = 0.0
    review: Review | None = None
    # The child process computing it (server.cll_child), while one runs, and the event set
    # when it has ended (done, failed or killed).
    child_pid: int | None = None
    child_ended: trio.Event = field(default_factory=trio.Event)
    # That child (``cll_process.CllMapProcess``), to ask it to hurry with some nodes, and an
    # event set (then replaced) whenever nodes it sent are installed, and when it ends.
    child: Any = None
    installed: trio.Event = field(default_factory=trio.Event)
    # Set when the map of the review being served has ended (done, failed or nothing to do).
    finished: trio.Event = field(default_factory=trio.Event)

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "elapsed_s": round(self.elapsed_s, 3),
        }


class ServerState:
    """Shared by the startup task, the readiness gate and the handlers, all on the trio thread."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        prefetched: dict[str, DecoderProcess] | None = None,
        session: ReviewSession | None = None,
    ) -> None:
        self.config = config
        self.startup = Startup(prefetched=dict(prefetched or {}))
        self.session = session or ReviewSession(config)
        self.activity = Activity()
        self.ws = Websockets()
        self.warehouse = WarehouseService(config)
        self.info = InfoCache()  # the /api/info bodies; owned by server/api/lineage.py
        self._served: Served | None = None
        self._tickets = 0
        self._loading = 0  # loads begun and not yet finished (lifecycle.refresh)
        self._loads_done = trio.Event()
        # Column lineage: per-node results keyed by content, so they survive a reload
        # (core.cll.cache); set on each swap, so the background map starts again
        # (server.cll_work); the map's progress.
        self.cll_cache = CllCache()
        self.review_swapped = trio.Event()
        self.cll_map = CllMapProgress()

    # -- the review being served (lifecycle.refresh is the one writer) --

    def take_ticket(self) -> int:
        """Called when a load begins: a later ticket means a newer load."""
        self._tickets += 1
        return self._tickets

    def load_began(self) -> None:
        if self._loading == 0:
            self._loads_done = trio.Event()
        self._loading += 1

    def load_ended(self) -> None:
        self._loading -= 1
        if self._loading == 0:
            self._loads_done.set()

    async def loads_settled(self) -> None:
        """Return once no load is in progress (at once if none is)."""
        while self._loading:
            await self._loads_done.wait()

    def swap(self, served: Served) -> bool:
        """Serve ``served`` unless a load that began later is already served."""
        if self._served is not None and served.ticket < self._served.ticket:
            return False
        self._served = served
        return True

    @property
    def served(self) -> Served | None:
        return self._served

    @property
    def review(self) -> Review:
        """The review being served. The readiness gate lets handlers run only once there is one."""
        if self._served is None:
            raise LookupError("no review is loaded yet")
        return self._served.review

    @property
    def artifacts(self) -> LoadedArtifacts | None:
        return None if self._served is None else self._served.review.artifacts

    @property
    def single_env(self) -> bool:
        if self._served is None:
            return self.startup.single_env
        return self._served.review.artifacts.single_env

    # -- read by handlers --

    @property
    def phase(self) -> str:
        return self.startup.phase

    @property
    def ready(self) -> bool:
        return self.startup.phase == READY

    @property
    def ready_event(self) -> trio.Event:
        return self.startup.ready_event

    @property
    def tracker(self) -> StartupPerfTracker:
        return self.startup.tracker

    @property
    def lifetime_expired_at(self) -> dt.datetime | None:
        return self.activity.lifetime_expired_at

    @property
    def websockets(self) -> set[Listener]:
        return self.ws.connections

    @property
    def websocket_scopes(self) -> set[trio.CancelScope]:
        return self.ws.scopes

    def touch(self) -> None:
        self.activity.touch()

    def stop_loading(self) -> None:
        """Shutdown was asked for: stop a load in progress so held requests are answered now."""
        startup = self.startup
        if startup.scope is not None and not startup.ready_event.is_set():
            startup.phase = STOPPED
            startup.scope.cancel()

    def health(self) -> dict[str, Any]:
        """Recce's health body, plus per-artifact progress and the last save's failure.
        No paths or messages, ever: exception class names only. Load balancers and probes
        read it, so it says nothing about the machine; the server log names the files."""
        error = self.startup.error
        artifacts = self.startup.progress.snapshot()
        return {
            "status": "ok",
            "ready": self.ready,
            "error": None if error is None else type(error).__name__,
            "phase": self.startup.phase,
            "single_env": self.single_env,
            "save_error": self.session.save_error,
            "artifacts": artifacts,
            "warehouse": self.warehouse.health(),
        }
