"""The server's warehouse connection: found from dbt's profiles.yml while the artifacts load, and
opened in the background once the review is ready (never in the startup path), through the
gateway; closed on shutdown.

States, as ``/api/health`` shows them: ``none`` (no profile configured: warehouse runs are
refused with 400 saying how to configure one), ``connecting``, ``ready``, ``failed`` (the
profile or the connection failed: runs end ``Failed`` with a clear error, the lineage API works
on). Nothing here writes a credential, a host or a path to health, an error or the log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import trio

from recce_trio.config import DEMO_DIR, ServerConfig
from recce_trio.errors import RecceTrioError, WarehouseConnectError
from recce_trio.server import gateway
from recce_trio.server.gcpolicy import full_collections_held

if TYPE_CHECKING:
    from recce_trio.warehouse.engine import Engine
    from recce_trio.warehouse.profiles import WarehouseTarget

log = logging.getLogger("recce_trio.warehouse")

NONE, CONNECTING, READY, FAILED = "none", "connecting", "ready", "failed"


def profiles_layer() -> ModuleType:
    """Where the profile is found and read, imported on first use in a worker thread: light
    (yaml and jinja2 are imported at startup), so /api/info, which waits to know whether a
    profile is configured, does not wait for the engines and sqlglot too."""
    from recce_trio.warehouse import profiles

    return profiles


def warehouse_layer() -> ModuleType:
    """The warehouse layer, imported on first use in a worker thread: it brings sqlglot
    (about 100 ms), which stays off the startup path and off the event loop."""
    from recce_trio.warehouse import configured

    return configured


class WarehouseService:
    """One warehouse connection per server, shared by every run (Recce's single adapter)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.state = NONE
        self.error: BaseException | None = None
        self.error_text = ""
        self.target: WarehouseTarget | None = None
        self.engine: Engine | None = None
        self.limiter: trio.CapacityLimiter | None = None
        self.resolved = trio.Event()  # set once it is known whether a profile is configured
        # What find_profile found: the target (None: no profile) or why it failed.
        self._found: tuple[WarehouseTarget | None, ModuleType | None, BaseException | None] | None
        self._found = None
        self._finding = trio.Lock()
        self.settled = trio.Event()  # set once the state is none, ready or failed

    def health(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "error": None if self.error is None else type(self.error).__name__,
        }

    @property
    def enabled(self) -> bool:
        """Whether warehouse runs can work (for support_tasks and /api/flag)."""
        return self.state in (CONNECTING, READY)

    async def find_profile(self) -> None:
        """Read the profile (light imports, profiles.yml): may run while the artifacts load, so
        that /api/info, which says whether one is configured, need not wait for it after
        ready. Never raises but for cancellation; ``connect`` reports what failed."""
        async with self._finding:
            if self._found is not None:
                return
            profiles: ModuleType | None = None
            try:
                profiles = await gateway.run(gateway.FILES, profiles_layer)
                target = await gateway.run(gateway.FILES, profiles.resolve_target, self.config)
            except Exception as exc:
                self._found = (None, profiles, exc)
            else:
                self._found = (target, profiles, None)

    async def connect(self) -> None:
        """Find the profile (unless ``find_profile`` has) and open the connection (in worker
        threads). Never raises but for cancellation; always settles."""
        home = Path.home()
        profiles: ModuleType | None = None
        try:
            # The profile first, with light imports: /api/info waits for it (support_tasks).
            await self.find_profile()
            assert self._found is not None
            target, profiles, failure = self._found
            if failure is not None:
                raise failure
            if target is None:
                self.state = NONE
                self.resolved.set()
                log.info("no dbt profile configured: the data diffs are off")
                return
            self.target = target
            self.state = CONNECTING  # only now: support_tasks never flips on and off
            self.resolved.set()
            limiter = gateway.warehouse_limiter(target.threads)
            # The engines, sqlglot and, through dbt, dbt-core and its adapter: hundreds of
            # thousands of long-lived objects, whose full collections would each hold the
            # interpreter 100-400 ms while they arrive. Held back, then frozen.
            with full_collections_held():
                configured = await gateway.run(gateway.FILES, warehouse_layer)
                engine = await gateway.run_limited(
                    limiter,
                    configured.open_configured,
                    target,
                    self.config.duckdb_external_access,
                    self.config.demo,
                    self.config.dbt_adapter,
                    abandon_on_cancel=True,
                    thread_name="recce-trio warehouse connect",
                )
            self.engine, self.limiter = engine, limiter
            self.state = READY
            log.info("warehouse ready: %s, %d threads", target.describe(), target.threads)
        except Exception as exc:
            self.state = FAILED
            self.error = exc
            paths = (home, self.config.profiles_dir, self.config.project_dir, DEMO_DIR)
            self.error_text = (
                profiles.safe_message(exc, paths) if profiles is not None else type(exc).__name__
            )
            if isinstance(exc, RecceTrioError):
                log.error("warehouse unavailable: %s", self.error_text)
            else:  # an unexpected failure: no traceback (a driver's may quote the DSN)
                log.error("warehouse unavailable (%s): %s", type(exc).__name__, self.error_text)
        finally:
            self.resolved.set()
            self.settled.set()

    async def ready_engine(self) -> tuple[Engine, trio.CapacityLimiter]:
        """The engine once connected; ``WarehouseConnectError`` with the reason if it failed."""
        await self.settled.wait()
        if self.engine is None or self.limiter is None:
            raise WarehouseConnectError(
                "The warehouse connection failed "
                f"({type(self.error).__name__ if self.error else 'no profile'}): "
                f"{self.error_text or 'not configured'}"
            )
        return self.engine, self.limiter

    async def close(self) -> None:
        """Close the engine (shutdown): interrupt what runs, then close, off the loop."""
        engine, self.engine = self.engine, None
        if engine is None:
            return
        engine.interrupt()
        with trio.CancelScope(shield=True):
            await gateway.run(gateway.FILES, engine.close)
        log.info("warehouse connection closed")
