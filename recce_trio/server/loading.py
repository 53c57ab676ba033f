"""Loading the four artifacts from target/ and target-base/: in parallel worker threads (the
gateway's artifact pool), with progress and timings.

Each artifact has its own loader task; the caller puts the whole load under a deadline. A loader
never raises: it records its outcome in ``LoadProgress`` so that one failure cannot take down
the others or the app's lifespan. ``scan`` is what the folders hold, for the watcher.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import trio

from recce_trio.core.artifacts.files import ARTIFACTS, ArtifactPaths, artifact_key
from recce_trio.core.artifacts.identify import missing_artifact_error
from recce_trio.core.artifacts.records import Catalog, Manifest
from recce_trio.core.artifactset import (
    FAILED,
    LOADED,
    LOADING,
    MISSING,
    LoadedArtifacts,
    LoadProgress,
)
from recce_trio.core.side import Side, SideBuilder
from recce_trio.errors import ArtifactReadError
from recce_trio.server import gateway
from recce_trio.server.decoders import DecoderProcess, decoded_in_server
from recce_trio.server.perf import StartupPerfTracker

log = logging.getLogger("recce_trio.server.loading")


class _DecodeControl:
    """Lets a deadline on the trio side reach a decode in a worker thread and its child.
    Carries a child started early (``prefetched``) in, and the child's figures out."""

    def __init__(self, prefetched: DecoderProcess | None = None) -> None:
        self.cancelled = False
        self.stats: dict[str, int] = {}
        self.decoder = prefetched
        # A manifest's share of the review, worked out as its records arrive from a decoder.
        self.side = SideBuilder()
        self._lock = threading.Lock()

    def start(self, kind: str, path: Path) -> DecoderProcess:
        with self._lock:
            if self.decoder is None:
                self.decoder = DecoderProcess(kind, path)
            if self.cancelled:
                self.decoder.close()
            return self.decoder

    def check(self) -> None:
        if self.cancelled:
            raise _Abandoned

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self.decoder is not None:
                self.decoder.process.kill()


class _Abandoned(Exception):
    """Raised inside an abandoned loader thread to stop its work early."""


# Whether there is a base folder, and each artifact file's (mtime, size).
Snapshot = tuple[bool, tuple[tuple[int, int] | None, ...]]


def scan(target_dir: Path, target_base_dir: Path) -> tuple[ArtifactPaths, Snapshot]:
    """Where the four files are, and their (mtime, size) now. Blocking: run it in the gateway."""
    paths = ArtifactPaths.from_dirs(target_dir, target_base_dir)
    stats: list[tuple[int, int] | None] = []
    for env, kind in ARTIFACTS:
        try:
            st = paths.path(env, kind).stat()
        except OSError:
            stats.append(None)
        else:
            stats.append((st.st_mtime_ns, st.st_size))
    return paths, (paths.single_env, tuple(stats))


Decoder = Callable[[str, Path, _DecodeControl], Manifest | Catalog]


def decode_with_process(kind: str, path: Path, control: _DecodeControl) -> Manifest | Catalog:
    if control.decoder is None and decoded_in_server(kind, path):
        return decode_in_thread(kind, path, control)
    decoder = control.start(kind, path)
    return decoder.result(
        between_frames=control.check, stats=control.stats, on_records=control.side.add
    )


# One catalog decoded in the server at a time: the first step of each (finding its tables)
# holds the interpreter for ~20 ms at 13 MB, and two back to back would stall the event loop
# twice as long.
_catalog_turn = threading.Lock()


def decode_in_thread(kind: str, path: Path, control: _DecodeControl) -> Manifest | Catalog:
    """Decode in this (worker) thread without holding the GIL for long.

    A manifest is decoded whole: its records' ``__post_init__`` hooks run Python code, which
    hands the GIL over at every switch interval (finding the records first, as the decoder
    processes do, would hold it ~170 ms for 100 MB). A catalog has no such hooks, so it is
    decoded a few tables at a time, and a stopped load stops between two pieces.
    """
    from recce_trio.core.artifacts import read_manifest
    from recce_trio.core.artifacts.catalog import read_catalog_in_pieces

    if kind == "manifest":
        return read_manifest(path)
    with _catalog_turn:
        return read_catalog_in_pieces(path, between=control.check)


DECODERS: dict[str, Decoder] = {"process": decode_with_process, "thread": decode_in_thread}


def _size_or_missing(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ArtifactReadError(f"cannot read {path}: {exc.strerror}", path=path) from exc


async def load_artifacts(
    paths: ArtifactPaths,
    *,
    progress: LoadProgress,
    tracker: StartupPerfTracker,
    decoder: str = "process",
    limiter: trio.CapacityLimiter | None = None,
    prefetched: dict[str, DecoderProcess] | None = None,
) -> LoadedArtifacts:
    """Load the artifacts in parallel. Raises the first required artifact's error.

    A missing catalog is allowed (lineage without columns). In single-environment mode the
    base is the current environment: its files are read once and shared.
    ``prefetched`` holds decoder processes already started by ``start_decoders``.
    """
    prefetched = prefetched or {}
    decode = DECODERS[decoder]
    results: dict[str, Manifest | Catalog | None] = {}
    sides: dict[str, Side] = {}
    failures: dict[str, BaseException] = {}
    wanted = [(env, kind) for env, kind in ARTIFACTS if not (paths.single_env and env == "base")]
    if paths.single_env:
        for kind in ("manifest", "catalog"):
            progress.update(artifact_key("base", kind), state=MISSING)

    async def load_one(env: str, kind: str) -> None:
        key = artifact_key(env, kind)
        path = paths.path(env, kind)
        control = _DecodeControl(prefetched.pop(key, None))
        start = time.perf_counter()

        def work() -> Manifest | Catalog | None:
            start_cpu = time.thread_time()
            try:
                return load()
            finally:  # the loader thread's CPU time: the frames or the decode, and the side
                tracker.record_timing(f"{key}_cpu", (time.thread_time() - start_cpu) * 1000)

        def load() -> Manifest | Catalog | None:
            size = _size_or_missing(path)
            if size is None:
                if kind == "manifest":
                    raise missing_artifact_error(path, kind, env=env)
                progress.update(key, state=MISSING)
                return None
            tracker.record_size(key, size)
            progress.update(key, state=LOADING, size_bytes=size)
            result = decode(kind, path, control)
            if "peak_rss_kb" in control.stats:
                tracker.record_count(f"{key}_worker_rss_kb", control.stats["peak_rss_kb"])
            if isinstance(result, Manifest):
                # The rest of this manifest's share of the review (the decoder's frames did
                # most of it), while the other manifest may still be decoding.
                control.check()
                with tracker.timing(f"{key}_side", cpu=True):
                    sides[key] = Side(result, early=control.side)
                control.side = SideBuilder()  # let go of what it held
            return result

        try:
            if limiter is None:
                result = await gateway.run(gateway.ARTIFACTS, work, thread_name=f"load {key}")
            else:  # a benchmark's own limiter (bench/loop_lag.py)
                result = await gateway.run_limited(limiter, work, thread_name=f"load {key}")
        except BaseException as exc:
            control.cancel()
            if not isinstance(exc, Exception):
                # Stopped from outside: whoever stopped the load names why (fail_unfinished).
                progress.update(key, state=FAILED, error=None)
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

    tracker.mark_since_start("artifact_load_start")  # the imports took the time before it
    try:
        with tracker.timing("artifact_load"):
            async with trio.open_nursery() as nursery:
                for env, kind in wanted:
                    nursery.start_soon(load_one, env, kind)
    finally:
        if prefetched:
            unused = list(prefetched.values())
            with trio.CancelScope(shield=True):  # it waits for the processes' exit: briefly
                await gateway.run(gateway.FILES, _close_all, unused)

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
        prepared=tuple(sides.values()),
    )


def _close_all(decoders: list[DecoderProcess]) -> None:
    for decoder in decoders:
        decoder.close()


def describe_failure(exc: BaseException) -> str:
    """The log line for a startup failure: what, where, and the fix. Never sent to clients."""
    return f"{type(exc).__name__}: {exc}"
