"""The startup load: four artifacts read in parallel worker threads, with progress and timings.

This is the one place where startup does blocking I/O. Each artifact has its own loader
task running ``trio.to_thread.run_sync`` under a dedicated ``CapacityLimiter``; the caller
puts the whole load under a deadline. A loader never raises: it records its outcome in
``LoadProgress`` so that one failure cannot take down the others or the app's lifespan.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from recce_trio.artifacts.records import Catalog, Manifest
from recce_trio.errors import ArtifactNotFoundError, ArtifactReadError
from recce_trio.perf import StartupPerfTracker

log = logging.getLogger("recce_trio.loading")

# (environment, kind) in the order Recce loads and reports them.
ARTIFACTS: tuple[tuple[str, str], ...] = (
    ("current", "manifest"),
    ("base", "manifest"),
    ("current", "catalog"),
    ("base", "catalog"),
)
PERF_NAMES = {"current": "curr", "base": "base"}

PENDING, LOADING, LOADED, MISSING, FAILED = "pending", "loading", "loaded", "missing", "failed"


def artifact_key(env: str, kind: str) -> str:
    """Recce's name for an artifact: ``curr_manifest``, ``base_catalog``, ..."""
    return f"{PERF_NAMES[env]}_{kind}"


@dataclass
class ArtifactStatus:
    env: str
    kind: str
    state: str = PENDING
    size_bytes: int | None = None
    elapsed_s: float | None = None
    error: str | None = None  # exception class name only: this is shown to HTTP clients

    def public(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "bytes": self.size_bytes,
            "seconds": None if self.elapsed_s is None else round(self.elapsed_s, 3),
            "error": self.error,
        }


@dataclass
class LoadProgress:
    """What each artifact is doing; written by loader threads, read by health and the CLI."""

    artifacts: dict[str, ArtifactStatus] = field(
        default_factory=lambda: {
            artifact_key(env, kind): ArtifactStatus(env, kind) for env, kind in ARTIFACTS
        }
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, key: str, **changes: Any) -> None:
        with self._lock:
            status = self.artifacts[key]
            for name, value in changes.items():
                setattr(status, name, value)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {key: status.public() for key, status in self.artifacts.items()}


@dataclass
class LoadedArtifacts:
    base_manifest: Manifest
    current_manifest: Manifest
    base_catalog: Catalog | None
    current_catalog: Catalog | None
    single_env: bool


@dataclass(frozen=True)
class ArtifactPaths:
    """The four files, and whether there is a base environment at all."""

    current_manifest: Path
    current_catalog: Path
    base_manifest: Path
    base_catalog: Path
    single_env: bool

    @classmethod
    def from_dirs(cls, target_dir: Path, target_base_dir: Path) -> ArtifactPaths:
        single_env = not target_base_dir.is_dir()
        base_dir = target_dir if single_env else target_base_dir
        return cls(
            current_manifest=target_dir / "manifest.json",
            current_catalog=target_dir / "catalog.json",
            base_manifest=base_dir / "manifest.json",
            base_catalog=base_dir / "catalog.json",
            single_env=single_env,
        )

    def path(self, env: str, kind: str) -> Path:
        path: Path = getattr(self, f"{env}_{kind}")
        return path


Decoder = Callable[[str, Path, "_Cancellation"], Manifest | Catalog]


class _Cancellation:
    """Lets a deadline on the trio side reach a decode in a worker thread and its child.
    Also carries the child's figures (``stats``) back."""

    def __init__(self) -> None:
        self.cancelled = False
        self.stats: dict[str, int] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def attach(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self.process = process
            if self.cancelled:
                process.kill()

    def check(self) -> None:
        if self.cancelled:
            raise _Abandoned

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self.process is not None and self.process.poll() is None:
                self.process.kill()


class _Abandoned(Exception):
    """Raised inside an abandoned loader thread to stop its work early."""


def decode_with_process(kind: str, path: Path, cancellation: _Cancellation) -> Manifest | Catalog:
    from recce_trio.artifacts.worker import decode_in_subprocess

    return decode_in_subprocess(
        kind,
        path,
        on_spawn=cancellation.attach,
        between_frames=cancellation.check,
        stats=cancellation.stats,
    )


def decode_in_thread(kind: str, path: Path, cancellation: _Cancellation) -> Manifest | Catalog:
    from recce_trio.artifacts import read_catalog, read_manifest

    return read_manifest(path) if kind == "manifest" else read_catalog(path)


DECODERS: dict[str, Decoder] = {"process": decode_with_process, "thread": decode_in_thread}


def _size_or_missing(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ArtifactReadError(f"cannot read {path}: {exc.strerror}", path=path) from exc


def _missing_manifest_error(env: str, path: Path) -> ArtifactNotFoundError:
    folder = path.parent
    if env == "base":
        hint = (
            f"Build the base environment's artifacts: on the base branch run "
            f"`dbt docs generate --target-path {folder.name}` (or `dbt parse` for lineage only)."
        )
    else:
        hint = (
            f"Build the current environment's artifacts: run `dbt docs generate "
            f"--target-path {folder.name}` (or `dbt parse` for lineage only)."
        )
    return ArtifactNotFoundError(f"{env} manifest not found at {path}.", path=path, hint=hint)


async def load_artifacts(
    paths: ArtifactPaths,
    *,
    progress: LoadProgress,
    tracker: StartupPerfTracker,
    decoder: str = "process",
    limiter: trio.CapacityLimiter | None = None,
) -> LoadedArtifacts:
    """Load the artifacts in parallel. Raises the first required artifact's error.

    A missing catalog is allowed (lineage without columns). In single-environment mode the
    base is the current environment: its files are read once and shared.
    """
    decode = DECODERS[decoder]
    limiter = limiter or trio.CapacityLimiter(len(ARTIFACTS))
    results: dict[str, Manifest | Catalog | None] = {}
    failures: dict[str, BaseException] = {}
    wanted = [(env, kind) for env, kind in ARTIFACTS if not (paths.single_env and env == "base")]
    if paths.single_env:
        for kind in ("manifest", "catalog"):
            progress.update(artifact_key("base", kind), state=MISSING)

    async def load_one(env: str, kind: str) -> None:
        key = artifact_key(env, kind)
        path = paths.path(env, kind)
        cancellation = _Cancellation()
        start = time.perf_counter()

        def work() -> Manifest | Catalog | None:
            size = _size_or_missing(path)
            if size is None:
                if kind == "manifest":
                    raise _missing_manifest_error(env, path)
                progress.update(key, state=MISSING)
                return None
            if path.is_dir():
                raise ArtifactReadError(
                    f"{path} is a directory, not a {kind}.json file.", path=path
                )
            tracker.record_size(key, size)
            progress.update(key, state=LOADING, size_bytes=size)
            result = decode(kind, path, cancellation)
            if "peak_rss_kb" in cancellation.stats:
                tracker.record_count(f"{key}_worker_rss_kb", cancellation.stats["peak_rss_kb"])
            return result

        try:
            result = await trio.to_thread.run_sync(
                work, abandon_on_cancel=True, limiter=limiter, thread_name=f"load {key}"
            )
        except BaseException as exc:
            cancellation.cancel()
            if not isinstance(exc, Exception):
                progress.update(key, state=FAILED, error="Cancelled")
                raise
            failures[key] = exc
            progress.update(
                key,
                state=FAILED,
                error=type(exc).__name__,
                elapsed_s=time.perf_counter() - start,
            )
            return
        finally:
            tracker.record_timing(key, (time.perf_counter() - start) * 1000)
        results[key] = result
        if result is not None:
            progress.update(key, state=LOADED, elapsed_s=time.perf_counter() - start)

    with tracker.timing("artifact_load"):
        async with trio.open_nursery() as nursery:
            for env, kind in wanted:
                nursery.start_soon(load_one, env, kind)

    for env, kind in ARTIFACTS:
        key = artifact_key(env, kind)
        if key in failures:
            raise failures[key]
    current_manifest = results["curr_manifest"]
    current_catalog = results.get("curr_catalog")
    if paths.single_env:
        base_manifest, base_catalog = current_manifest, current_catalog
    else:
        base_manifest, base_catalog = results["base_manifest"], results.get("base_catalog")
    assert isinstance(current_manifest, Manifest) and isinstance(base_manifest, Manifest)
    assert current_catalog is None or isinstance(current_catalog, Catalog)
    assert base_catalog is None or isinstance(base_catalog, Catalog)
    return LoadedArtifacts(
        base_manifest=base_manifest,
        current_manifest=current_manifest,
        base_catalog=base_catalog,
        current_catalog=current_catalog,
        single_env=paths.single_env,
    )


def describe_failure(exc: BaseException) -> str:
    """The log line for a startup failure: what, where, and the fix. Never sent to clients."""
    return f"{type(exc).__name__}: {exc}"
