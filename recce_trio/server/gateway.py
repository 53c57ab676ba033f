"""The one way off the event loop: every blocking call of the server runs here, in a worker
thread, under a named limiter.

Nothing else in the package calls ``trio.to_thread`` (tests/unit/test_architecture.py checks
it), and no file system or subprocess call runs on the event loop (tests/api/test_off_loop.py
checks that). Each kind of work has its own limiter, so one kind cannot starve another, and
none of them uses trio's shared default limiter (which Quart-Trio's file bodies use).

Limiters are per ``trio.run`` (a ``RunVar``): a thread abandoned by one run cannot hold a token
of the next one (tests start many runs in one process).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, TypeVarTuple, Unpack

import trio
from trio.lowlevel import RunVar

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True, eq=False)
class Pool:
    """A named kind of blocking work: how many threads it may use at once, and whether a
    cancellation (a deadline, shutdown) stops the wait at once (the thread then runs on alone
    and its result is dropped) or waits for the thread to finish."""

    name: str
    threads: int
    abandon_on_cancel: bool
    _limiter: RunVar[trio.CapacityLimiter] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_limiter", RunVar(f"recce_trio.gateway.{self.name}"))

    def limiter(self) -> trio.CapacityLimiter:
        """This run's limiter for the pool."""
        try:
            return self._limiter.get()
        except LookupError:
            limiter = trio.CapacityLimiter(self.threads)
            self._limiter.set(limiter)
            return limiter


# The four artifacts load side by side; a deadline must be able to stop the load.
ARTIFACTS = Pool("artifacts", 4, abandon_on_cancel=True)
# Building a review holds a lot of memory: one at a time (startup, a reload, an import).
REVIEW = Pool("review", 1, abandon_on_cancel=True)
# State-file reads and writes. A write is never abandoned: it finishes, or the file is unsaved.
STATE_FILE = Pool("state-file", 2, abandon_on_cancel=False)
# Selector evaluation: one at a time, the selector caches are shared.
SELECTORS = Pool("selectors", 1, abandon_on_cancel=False)
# Runs computed from the artifacts (lineage_diff, schema_diff); cancelling a run stops its wait.
RUNS = Pool("runs", 2, abandon_on_cancel=True)
# Encoding and compressing response bodies (/api/info, static files): CPU work, one per core.
ENCODING = Pool("encoding", 2, abandon_on_cancel=False)
# Small look-ups: stat, is_dir, a git HEAD, a static file of the page, a decoder's exit.
FILES = Pool("files", 4, abandon_on_cancel=False)

# Column-level lineage: /api/cll requests (parsing SQL on a cache miss, walking the lineage,
# encoding the answer), and the background whole-project map, one batch at a time.
CLL = Pool("cll", 2, abandon_on_cancel=True)
CLL_MAP = Pool("cll-map", 1, abandon_on_cancel=True)

POOLS = (ARTIFACTS, REVIEW, STATE_FILE, SELECTORS, RUNS, ENCODING, FILES, CLL, CLL_MAP)


def warehouse_limiter(threads: int) -> trio.CapacityLimiter:
    """A limiter for one warehouse connection pool: its queries run through
    ``run_limited(limiter, ...)`` with at most ``threads`` at once."""
    if threads < 1:
        raise ValueError("a warehouse needs at least one thread")
    return trio.CapacityLimiter(threads)


async def run(
    pool: Pool,
    fn: Callable[[Unpack[Ts]], T],
    *args: *Ts,
    thread_name: str | None = None,
) -> T:
    """Run ``fn(*args)`` in a worker thread of ``pool``."""
    return await trio.to_thread.run_sync(
        fn,
        *args,
        thread_name=thread_name or f"recce-trio {pool.name}",
        abandon_on_cancel=pool.abandon_on_cancel,
        limiter=pool.limiter(),
    )


async def run_limited(
    limiter: trio.CapacityLimiter,
    fn: Callable[[Unpack[Ts]], T],
    *args: *Ts,
    abandon_on_cancel: bool = True,
    thread_name: str | None = None,
) -> T:
    """Run ``fn(*args)`` in a worker thread under a limiter of its own (a warehouse's)."""
    return await trio.to_thread.run_sync(
        fn,
        *args,
        thread_name=thread_name,
        abandon_on_cancel=abandon_on_cancel,
        limiter=limiter,
    )
