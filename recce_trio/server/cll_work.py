"""Column-level lineage off the event loop: per-request work and the whole-project map.

``run_cll`` is where CLL request work enters a worker thread (the gateway's ``cll`` pool).
``run_cll_map`` is the background task that computes every node's column lineage once the
server is ready (what Recce's ``--enable-cll-cache`` does), so that later ``/api/cll`` answers
find the cache warm and walk a project-wide edge index.

When the review's artifacts came from the files, the map is computed in a child process
(``server.cll_child``: it reads the files itself, so the SQL parsing never competes with the
event loop for the interpreter); the server installs what it streams back into its cache and
builds the edges in short worker-thread calls. Otherwise (a state file's artifacts, or the
child failed) the map runs here, in small batches in worker threads with rests. Either way
it is cancelled within one batch when the artifacts are reloaded or the server stops (the
child is killed).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

import trio

from recce_trio.core.artifacts.files import ArtifactPaths
from recce_trio.server import gateway
from recce_trio.server.cll_process import CllMapProcess
from recce_trio.server.cll_review import is_analysed, mark_analysed
from recce_trio.server.gcpolicy import full_collections_held
from recce_trio.server.runtime import CllMapProgress, Served, ServerState

log = logging.getLogger("recce_trio.server.cll")

T = TypeVar("T")
# Nodes per worker-thread call of the background map: small enough that a cancel (reload,
# shutdown) is honoured within a fraction of a second, large enough to amortise the hop.
MAP_BATCH = 8
# After each batch the map rests for this share of the batch's time, so the event loop (and
# requests' threads) get the interpreter to themselves part of the time.
MAP_REST = 0.5
# While the map runs, a thread waiting for the interpreter gets it after at most this long
# (Python's default is 5 ms; the event loop waits that long at each of its many releases).
MAP_SWITCH_INTERVAL_S = 0.0005
# Processes that compute the map side by side in the child (each takes every n-th node).
MAP_WORKERS = 2
# Below this many lineage nodes the map is computed here: a second or two of work, less than
# starting a child process and reading the artifacts again costs.
MAP_IN_CHILD_MIN_NODES = 400
# While the child maps, a request analyses up to this many unmapped nodes itself (a few
# tenths of a second); one that needs more waits for the map (see wait_for_the_map).
INLINE_MAX_UNMAPPED = 48


def progress_of(state: ServerState) -> CllMapProgress:
    """The progress of the server's background CLL map."""
    return state.cll_map


class _Switching:
    """The interpreter's switch interval, lowered while CLL work runs in worker threads (the
    map, requests): a thread waiting for the interpreter (the event loop, between every two
    steps of every request) gets it after 0.5 ms instead of 5. Used on the trio thread only."""

    def __init__(self) -> None:
        self.users = 0
        self.default = sys.getswitchinterval()

    @contextmanager
    def fast(self) -> Iterator[None]:
        if self.users == 0:
            self.default = sys.getswitchinterval()
            sys.setswitchinterval(min(self.default, MAP_SWITCH_INTERVAL_S))
        self.users += 1
        try:
            yield
        finally:
            self.users -= 1
            if self.users == 0:
                sys.setswitchinterval(self.default)


_switching = _Switching()


def fast_switching() -> AbstractContextManager[None]:
    """The same lowered switch interval for other work that runs in worker threads beside the
    event loop: the artifact load and the review build (``lifecycle.refresh``)."""
    return _switching.fast()


async def run_cll(state: Any, work: Callable[[], T]) -> T:
    """Run one request's CLL work in a worker thread (the gateway's ``cll`` pool): an answer
    over thousands of nodes is pure Python work for a tenth of a second or more."""
    with _switching.fast():
        return await gateway.run(gateway.CLL, work, thread_name="recce-trio cll request")


async def wait_for_the_map(
    state: ServerState, project: Any, node_id: str | None, *, no_upstream: bool, no_downstream: bool
) -> None:
    """While a child process maps ``project``, a request that would analyse more than
    ``INLINE_MAX_UNMAPPED`` nodes itself asks the child to compute those first and waits for
    them instead: that analysis would hold the server's interpreter (and health probes) for
    seconds, for what the child is computing anyway. A smaller one goes ahead at once."""
    progress = progress_of(state)

    def mapping() -> bool:
        review = progress.review
        return (
            progress.child_pid is not None
            and project.index is None
            and review is not None
            and review.cll is project
        )

    if not mapping():
        return
    ended = progress.child_ended
    missing = await gateway.run(
        gateway.CLL, _unmapped, project, node_id, no_upstream, no_downstream
    )
    if len(missing) <= INLINE_MAX_UNMAPPED:
        return
    child = progress.child
    if child is not None:
        await gateway.run(gateway.FILES, child.hurry, missing)
    while missing and not ended.is_set():
        await progress.installed.wait()  # set by each frame installed, and at the child's end
        missing = [uid for uid in missing if not project.has_edges(uid)]


def _unmapped(
    project: Any, node_id: str | None, no_upstream: bool, no_downstream: bool
) -> list[str]:
    from recce_trio.core.cll.api import unmapped

    return unmapped(project, node_id, no_upstream=no_upstream, no_downstream=no_downstream)


async def run_cll_map(state: ServerState) -> None:
    """Compute the whole project's column lineage for each review in turn; runs until
    cancelled (shutdown). A reload cancels the map in progress and starts one for the new
    review. Never raises but for cancellation."""
    progress = progress_of(state)
    while True:
        state.review_swapped = swapped = trio.Event()
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_cancel_when_set, swapped, scope)
                with _switching.fast():
                    if not await _map_in_child(state, progress):
                        await _with_change_analysis(state)
                        await _build_map(progress, state.review)
                progress.finished.set()
                await swapped.wait()  # done: wait for the next review
        if scope.cancelled_caught and progress.state == "running":
            progress.state = "cancelled"
            log.info("column lineage map cancelled: the artifacts were reloaded")
        progress.finished = trio.Event()


def _artifact_paths(state: ServerState) -> dict[str, str | None] | None:
    """The files the served review was read from, or None when it did not come from them
    (a state file's artifacts) and the child could not read the same."""
    served = state.served
    if served is None or served.snapshot is None or state.config.review:
        return None
    paths = ArtifactPaths.from_dirs(state.config.target_dir, state.config.target_base_dir)
    if paths.single_env != served.snapshot[0]:
        return None  # the folders changed since: a reload is on its way
    return {
        f"{env}_{kind}": str(paths.path(env, kind))
        for env in ("base", "current")
        for kind in ("manifest", "catalog")
    }


async def _map_in_child(state: ServerState, progress: CllMapProgress) -> bool:
    """The map computed by a child process. False if it could not be (the caller computes it
    here instead; what the child sent is in the cache already)."""
    review = state.review
    if review is None:
        return False
    # review.cll is made on first use, and imports sqlglot: in the worker thread.
    project = await gateway.run(gateway.CLL_MAP, lambda: review.cll)
    ids, modified = await gateway.run(gateway.CLL_MAP, _lineage_ids_and_modified, project)
    if len(ids) < MAP_IN_CHILD_MIN_NODES:
        return False
    if is_analysed(review):
        modified = []  # analysed in the review build: those results are in the cache
    paths = await gateway.run(gateway.FILES, _artifact_paths, state)
    if paths is None:
        return False
    progress.review = review
    progress.state, progress.done, progress.total = "running", 0, len(ids)
    started = time.perf_counter()
    cpu = time.process_time()

    def start() -> CllMapProcess:
        return CllMapProcess(
            paths, changes=project.changes, ids=ids, modified=modified, workers=MAP_WORKERS
        )

    child = await gateway.run(gateway.CLL_MAP, start, thread_name="recce-trio cll child")
    progress.child_pid, progress.child_ended = child.process.pid, trio.Event()
    progress.child = child
    stats: dict[str, Any] = {}
    # What the child sends becomes a million long-lived objects here; each full collection
    # while they arrive would scan them all with the interpreter held (~0.2 s each, twice
    # or more per map): they wait for the end, when the map's objects are frozen.
    try:
        with full_collections_held():
            while True:
                tag, value = await gateway.run(gateway.CLL_MAP, _receive, child, project)
                if tag == "E":
                    progress.done += value
                    progress.elapsed_s = time.perf_counter() - started
                    progress.installed.set()
                    progress.installed = trio.Event()
                elif tag == "C":
                    await _with_change_analysis(state)
                elif tag == "Z":
                    stats = value
                    break
                elif tag != "H":
                    log.warning("the column lineage child failed (%s): computing it here", value)
                    progress.state = "running"
                    return False
            await _with_change_analysis(state)  # a project without modified nodes sends no C
            last = time.perf_counter()
            await gateway.run(gateway.CLL_MAP, project.build_index)
            await gateway.run(gateway.CLL_MAP, _prepare_answers, project)
            stats["index_s"] = time.perf_counter() - last
    except Exception:
        log.exception("the column lineage map failed; computing it here instead")
        return False
    finally:
        with trio.CancelScope(shield=True):
            await gateway.run(gateway.FILES, child.close)
        progress.child_pid = progress.child = None
        progress.child_ended.set()
        progress.installed.set()
    progress.state = "done"
    progress.elapsed_s = time.perf_counter() - started
    log.info(
        "column lineage map: %d nodes in %.1f s (cache %d entries; in a child process with "
        "%d workers, artifacts read in %.1f s, workers started at %.1f s, their CPU %s s, "
        "done %s s after they started; the server process's CPU meanwhile %.1f s; "
        "the edge index and answers' pieces built in %.1f s at the end)",
        progress.total,
        progress.elapsed_s,
        len(project.cache),
        stats.get("workers", 0),
        stats.get("read_s", 0.0),
        stats.get("fork_s", 0.0),
        "/".join(f"{s:.1f}" for s in stats.get("worker_cpu_s", ())),
        "/".join(f"{s:.1f}" for s in stats.get("worker_end_s", ())),
        time.process_time() - cpu,
        stats.get("index_s", 0.0),
    )
    return True


def _receive(child: CllMapProcess, project: Any) -> tuple[str, Any]:
    """In a worker thread: the child's next frame. An ``E`` frame is installed and comes back
    as its number of nodes; an ``H`` frame that does not match the served artifacts, as an
    ``X`` (failure)."""
    frame = child.next_frame()
    if frame is None:
        tail = child.stderr_tail()
        return "X", "it ended early" + (f": {tail.splitlines()[-1]}" if tail else "")
    tag, value = frame
    if tag == "H":
        from recce_trio.core.cll.artifacts import fingerprint

        mine = fingerprint(
            project.base.manifest,
            project.base.catalog,
            project.current.manifest,
            project.current.catalog,
        )
        if value != mine:
            return "X", "the artifact files are not the ones being served"
    elif tag == "E":
        entries, edges = value
        project.install(entries, edges)
        return tag, len(edges)
    return tag, value


async def _cancel_when_set(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


async def _with_change_analysis(state: Any) -> None:
    """Swap in the review with each modified node's change category, then tell the pages to
    fetch /api/info again. Skipped (the categories stay ``unknown``) if it fails."""
    from recce_trio.core.review_changes import with_change_analysis

    review = state.review
    if review is None or is_analysed(review):
        return
    try:
        analysed = await gateway.run(gateway.CLL_MAP, with_change_analysis, review)
    except Exception:
        log.exception("change analysis failed: /api/info keeps category 'unknown'")
        return
    served = state.served
    if analysed is review or served is None or served.review is not review:
        return  # nothing modified, or a reload swapped another review in meanwhile
    mark_analysed(analysed)
    state.swap(Served(review=analysed, ticket=served.ticket, snapshot=served.snapshot))
    log.info("change analysis of the modified nodes is in /api/info")
    await state.ws.broadcast({"command": "refresh", "event": {"eventType": "modified"}})


async def _build_map(progress: CllMapProgress, review: Any) -> None:
    progress.review = review
    if review is None:
        progress.state = "idle"
        return
    progress.state, progress.done, progress.total = "running", 0, 0
    started = time.perf_counter()
    try:
        # review.cll is made on first use, and imports sqlglot: in the worker thread.
        project = await gateway.run(gateway.CLL_MAP, lambda: review.cll)
        ids = await gateway.run(gateway.CLL_MAP, _lineage_ids, project)
        progress.total = len(ids)
        for start in range(0, len(ids), MAP_BATCH):
            batch = ids[start : start + MAP_BATCH]
            t = time.perf_counter()
            await gateway.run(gateway.CLL_MAP, _compute, project, batch)
            progress.done += len(batch)
            progress.elapsed_s = time.perf_counter() - started
            await trio.sleep((time.perf_counter() - t) * MAP_REST)
        await gateway.run(gateway.CLL_MAP, project.build_index)
        await gateway.run(gateway.CLL_MAP, _prepare_answers, project)
    except Exception:
        progress.state = "failed"
        log.exception("the column lineage map failed; /api/cll computes per node instead")
        return
    progress.state = "done"
    progress.elapsed_s = time.perf_counter() - started
    log.info(
        "column lineage map: %d nodes in %.1f s (cache %d entries)",
        progress.total,
        progress.elapsed_s,
        len(project.cache),
    )


def _lineage_ids(project: Any) -> list[str]:
    # Changed nodes first: they are what the page asks about.
    changed = [uid for uid, status in project.changes.items() if status != "removed"]
    parents = project.graph()[0]
    first = [uid for uid in changed if uid in parents]
    seen = set(first)
    return first + [uid for uid in parents if uid not in seen]


def _lineage_ids_and_modified(project: Any) -> tuple[list[str], list[str]]:
    ids = _lineage_ids(project)
    return ids, [uid for uid in ids if project.changes.get(uid) == "modified"]


def _prepare_answers(project: Any) -> None:
    """The numbered index and encoded pieces node answers are made of (``core.cll.wire``)."""
    from recce_trio.core.cll.wire import prepare

    prepare(project)


def _compute(project: Any, batch: list[str]) -> None:
    for uid in batch:
        if project.changes.get(uid) == "modified":
            project.change(uid)  # first: the node's lineage reads the query it parses
        project.edges(uid)  # the node's lineage, and its edges for the index
