"""The server's side of the whole-project column lineage map's child process (``cll_child``):
start it, read its frames, ask it to hurry with the nodes a request waits for, stop it.

The child's stdin carries the spec, then lists of node ids to compute first (each
``<u32 length><msgpack list of ids>``); it is also the child's lifeline (end-of-file: the
server has gone).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

import msgspec

from recce_trio.server.cll_child import BOOTSTRAP, edges_frame, memory_limit, read_frame


class CllMapProcess:
    """The child computing one review's map. Start it in a worker thread; read its frames
    with ``next_frame`` (blocking); ``close`` kills it if it still runs."""

    def __init__(
        self,
        paths: dict[str, str | None],
        *,
        changes: dict[str, str],
        ids: Sequence[str],
        modified: Sequence[str],
        workers: int,
    ) -> None:
        total = 0
        for path in {p for p in paths.values() if p is not None}:
            with contextlib.suppress(OSError):
                total += os.stat(path).st_size
        spec = {
            "paths": paths,
            "changes": changes,
            "ids": list(ids),
            "modified": list(modified),
            "workers": workers,
        }
        payload = msgspec.msgpack.encode(spec)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.process = subprocess.Popen(
            [sys.executable, "-c", BOOTSTRAP, str(memory_limit(total))],
            stdin=subprocess.PIPE,  # the spec, ids to hurry with; the child's lifeline
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**os.environ, "MALLOC_ARENA_MAX": "2"},
        )
        assert self.process.stdin is not None
        self._lock = threading.Lock()
        # The child reads the spec first thing; if it died before, next_frame says so.
        self._tell(payload)

    def _tell(self, payload: bytes) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):  # ended, or closed
            assert self.process.stdin is not None
            self.process.stdin.write(struct.pack(">I", len(payload)) + payload)
            self.process.stdin.flush()

    def hurry(self, uids: Sequence[str]) -> None:
        """Ask the child to compute ``uids`` before its other nodes (a request waits for
        them); what it has computed already, or does not map, it skips. Any thread."""
        if uids:
            self._tell(msgspec.msgpack.encode(list(uids)))

    def next_frame(self) -> tuple[str, Any] | None:
        """The next frame as (tag, value), or None if the child ended without a ``Z``. An
        ``E`` frame's value is ``(entries, edges)`` (see the module's docstring)."""
        assert self.process.stdout is not None
        frame = read_frame(self.process.stdout)
        if frame is None:
            return None
        tag, payload = frame
        if tag == "E":
            pickled, edges = edges_frame().decode(payload)
            return tag, (pickle.loads(pickled) if pickled else [], edges)
        if tag in ("H", "Z"):
            return tag, pickle.loads(payload)  # our own child's frames
        return tag, payload.decode(errors="replace")

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-2000:].decode(errors="replace").strip()

    def close(self) -> None:
        """Stop the child (its workers die with it) and release its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        with self._lock:
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        self._stderr.close()
