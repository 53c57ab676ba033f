"""Startup timings and artifact sizes, recorded from several loader threads at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class StartupPerfTracker:
    """Thread-safe record of how long each startup step took and how big each artifact was.

    Timings are in milliseconds, sizes in bytes, keyed by Recce's names (``curr_manifest``,
    ``base_catalog``, ``artifact_load``, ...). A timing is recorded even when the step fails,
    so a slow failure is visible too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timings: dict[str, float] = {}
        self._sizes: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        from recce_trio import STARTED_AT

        self._started = STARTED_AT

    def record_timing(self, name: str, ms: float) -> None:
        with self._lock:
            self._timings[name] = round(ms, 3)

    def record_size(self, name: str, size_bytes: int) -> None:
        with self._lock:
            self._sizes[name] = size_bytes

    def record_count(self, name: str, count: int) -> None:
        with self._lock:
            self._counts[name] = count

    @contextmanager
    def timing(self, name: str, *, cpu: bool = False) -> Iterator[None]:
        """Time the block under ``name``, whether it returns or raises; with ``cpu``, also the
        CPU time of the calling thread under ``<name>_cpu`` (wall time minus that is time
        spent waiting: for the interpreter, for a core)."""
        start = time.perf_counter()
        start_cpu = time.thread_time() if cpu else 0.0
        try:
            yield
        finally:
            self.record_timing(name, (time.perf_counter() - start) * 1000)
            if cpu:
                self.record_timing(f"{name}_cpu", (time.thread_time() - start_cpu) * 1000)

    def mark_since_start(self, name: str) -> None:
        """Record the time since the package was first imported (process start-up) until now,
        and under ``<name>_process_cpu`` the CPU time the whole process has used by then."""
        self.record_timing(name, (time.perf_counter() - self._started) * 1000)
        self.record_timing(f"{name}_process_cpu", time.process_time() * 1000)

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "timings": dict(self._timings) or None,
                "artifact_sizes": dict(self._sizes) or None,
                "counts": dict(self._counts) or None,
            }

    def summary_line(self) -> str:
        """One line for the log at ready: total and per-artifact times and sizes."""
        with self._lock:
            parts = []
            for name in ("curr_manifest", "base_manifest", "curr_catalog", "base_catalog"):
                if name in self._timings:
                    size = self._sizes.get(name)
                    size_text = f" {size / 1e6:.1f} MB" if size is not None else ""
                    parts.append(f"{name}{size_text} {self._timings[name]:.0f} ms")
            total = self._timings.get("startup_total")
            head = f"startup ready in {total:.0f} ms" if total is not None else "startup ready"
            extra = [
                f"{name} {self._timings[name]:.0f} ms"
                for name in ("artifact_load", "lineage_diff")
                if name in self._timings
            ]
            return "; ".join([head, *extra, *parts])
