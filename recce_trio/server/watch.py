"""Reload when dbt rewrites the artifacts: a new review is built beside the old one, then swapped.

Polling a handful of ``stat`` calls costs nothing and needs no file-watching dependency; it
also works on network and container file systems where inotify events do not arrive.
"""

from __future__ import annotations

import logging

import trio

from recce_trio.core.artifactset import LoadProgress
from recce_trio.server import gateway, loading
from recce_trio.server.lifecycle import Candidate, refresh
from recce_trio.server.loading import Snapshot
from recce_trio.server.perf import StartupPerfTracker
from recce_trio.server.runtime import ServerState
from recce_trio.server.session import ReviewSession

log = logging.getLogger("recce_trio.server.watch")

POLL_INTERVAL_S = 1.0


async def snapshot(state: ServerState) -> Snapshot:
    """Whether there is a base folder, and each artifact file's (mtime, size)."""
    config = state.config
    _, seen = await gateway.run(
        gateway.FILES, loading.scan, config.target_dir, config.target_base_dir
    )
    return seen


async def watch_artifacts(state: ServerState, *, interval_s: float | None = None) -> None:
    """Reload whenever the artifact files change and then stay unchanged for one interval
    (dbt writes large files over time). Runs until cancelled; a failed reload keeps the
    previous review and is logged."""
    interval_s = POLL_INTERVAL_S if interval_s is None else interval_s
    served = state.served
    # Compare with the files as they were when the load began, so that a rewrite during the
    # load is not missed.
    last = served.snapshot if served is not None else None
    while True:
        await trio.sleep(interval_s)
        seen = await snapshot(state)
        if seen == last:
            continue
        await trio.sleep(interval_s)
        settled = await snapshot(state)
        if settled != seen:
            continue  # still being written: look again next round
        last = settled
        await reload(state)


class _BaseRemoved(Exception):
    """target-base/ went away under a two-environment server."""


async def reload(state: ServerState) -> bool:
    """Load the artifacts again and swap in a new review; tell the websockets. True if swapped.
    A failure is logged and the previous review stays served."""
    log.info("artifacts changed: reloading")
    try:
        swapped = await refresh(state, lambda: _from_files(state), announce="modified")
    except _BaseRemoved:
        log.warning(
            "%s is gone: keeping the last review of both environments. Restore the base "
            "artifacts there (e.g. `dbt docs generate --target-path %s` on the base branch), "
            "or restart the server to review a single environment.",
            state.config.target_base_dir,
            state.config.target_base_path,
        )
        return False
    except Exception as exc:
        log.error(
            "artifacts changed but could not be loaded, keeping the previous ones: %s",
            loading.describe_failure(exc),
        )
        return False
    if swapped:
        log.info("artifacts reloaded: %d changed nodes", len(state.review.diff.diff))
    return swapped


async def _from_files(state: ServerState) -> Candidate:
    config = state.config
    paths, seen = await gateway.run(
        gateway.FILES, loading.scan, config.target_dir, config.target_base_dir
    )
    if paths.single_env and not state.single_env:
        raise _BaseRemoved
    artifacts = await loading.load_artifacts(
        paths, progress=LoadProgress(), tracker=StartupPerfTracker(), decoder=config.loader
    )

    async def adopt(session: ReviewSession) -> None:
        session.artifacts_reloaded(artifacts, paths)

    return Candidate(artifacts, seen, adopt)
