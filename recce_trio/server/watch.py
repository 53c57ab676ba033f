"""Reload when dbt rewrites the artifacts: a new review is built beside the old one, then swapped.

Polling a handful of ``stat`` calls costs nothing and needs no file-watching dependency; it
also works on network and container file systems where inotify events do not arrive.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import msgspec
import trio

from recce_trio.core.artifacts.files import ARTIFACTS, ArtifactPaths
from recce_trio.core.artifactset import LoadProgress
from recce_trio.server import loading
from recce_trio.server.perf import StartupPerfTracker
from recce_trio.server.runtime import ServerState

log = logging.getLogger("recce_trio.server.watch")

POLL_INTERVAL_S = 1.0
Snapshot = tuple[bool, tuple[tuple[int, int] | None, ...]]


def snapshot(state: ServerState) -> Snapshot:
    """Whether there is a base folder, and each artifact file's (mtime, size)."""
    config = state.config
    paths = ArtifactPaths.from_dirs(config.target_dir, config.target_base_dir)
    stats: list[tuple[int, int] | None] = []
    for env, kind in ARTIFACTS:
        try:
            st = paths.path(env, kind).stat()
        except OSError:
            stats.append(None)
        else:
            stats.append((st.st_mtime_ns, st.st_size))
    return paths.single_env, tuple(stats)


async def watch_artifacts(state: ServerState, *, interval_s: float | None = None) -> None:
    """Reload whenever the artifact files change and then stay unchanged for one interval
    (dbt writes large files over time). Runs until cancelled; a failed reload keeps the
    previous review and is logged."""
    interval_s = POLL_INTERVAL_S if interval_s is None else interval_s
    # Compare with the files as they were when the load began, so that a rewrite during the
    # load is not missed.
    last = state.artifact_snapshot
    while True:
        await trio.sleep(interval_s)
        seen = await trio.to_thread.run_sync(snapshot, state)
        if seen == last:
            continue
        await trio.sleep(interval_s)
        settled = await trio.to_thread.run_sync(snapshot, state)
        if settled != seen:
            continue  # still being written: look again next round
        last = settled
        await reload(state)


async def reload(state: ServerState) -> bool:
    """Load the artifacts again and swap in a new review; tell the websockets. True if swapped."""
    config = state.config
    paths = ArtifactPaths.from_dirs(config.target_dir, config.target_base_dir)
    log.info("artifacts changed: reloading")
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        artifacts = await loading.load_artifacts(
            paths,
            progress=LoadProgress(),
            tracker=StartupPerfTracker(),
            decoder=config.loader,
        )
        from recce_trio.core.review import build_review

        review = await trio.to_thread.run_sync(build_review, artifacts)
    except Exception as exc:
        log.error(
            "artifacts changed but could not be loaded, keeping the previous ones: %s",
            loading.describe_failure(exc),
        )
        return False
    finally:
        if gc_was_enabled:
            gc.enable()
    state.artifacts, state.review = artifacts, review
    state.single_env = paths.single_env
    state.session.artifacts_reloaded(artifacts, paths)
    gc.freeze()
    log.info("artifacts reloaded: %d changed nodes", len(review.diff.diff))
    await broadcast(state, {"command": "refresh", "event": {"eventType": "modified"}})
    return True


async def broadcast(state: ServerState, message: dict[str, Any]) -> None:
    """Send ``message`` to every open websocket; a closed one is dropped."""
    text = msgspec.json.encode(message).decode()
    for connection in list(state.websockets):
        try:
            await connection.send(text)
        except Exception:  # a client that went away: its handler unregisters it
            state.websockets.discard(connection)
