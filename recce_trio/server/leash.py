"""The leash of the server's child processes (artifact decoders, the column-lineage map): none
outlives the server, and none takes more memory than it was given.

Used inside the children, so it imports nothing heavy.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import threading

# Exit status of a child whose parent has gone (nobody reads it; for the record).
EXIT_ORPHANED = 3
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Be killed when the parent (``parent_pid``) dies (Linux's ``PR_SET_PDEATHSIG``); exit at
    once if it is already gone. The signal comes when the *thread* that started this process
    ends, so a child started from a worker thread that may end first also uses
    ``watch_stdin``."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl here
            pass
    if os.getppid() != parent_pid:  # it went before the line above took effect
        os._exit(EXIT_ORPHANED)


def watch_stdin() -> None:
    """Exit when stdin reaches end-of-file: only the parent holds its write end and never
    writes to it, so that happens when the parent closes it or dies (``kill -9`` included)."""

    def watch() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def cap_memory(limit: int) -> None:
    """Cap the address space (RLIMIT_AS) at ``limit`` bytes, never above a hard limit already
    set, never raising a lower soft one: a runaway fails with MemoryError in this process
    instead of swapping the machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or limit < soft:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
