"""A server's review session: the checklist, runs in flight, and the state file it is kept in.

Every file operation runs in a worker thread of the gateway. Saves are serialised by one lock
and coalesced: a save writes everything changed up to the moment it starts, so edits made
while another save is writing are written by the next one, and nothing is lost.

The state file must carry the four dbt artifacts as dbt wrote them, but the server keeps only
compact records. So the session keeps where each artifact's JSON can be had again: the file in
target/ or target-base/ (re-read at save time: no memory held, and a rebuilt target/ is what
Recce would save too), or, for artifacts that came from a state file (review mode, or a state
artifact newer than the one on disk), the raw bytes themselves.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec
import trio

from recce_trio.config import ServerConfig
from recce_trio.core import state as statefile
from recce_trio.core.artifacts.files import ArtifactPaths
from recce_trio.core.artifactset import (
    ARTIFACT_KEYS,
    LoadedArtifacts,
    LoadProgress,
    Source,
    file_sources,
    git_branch,
    merge_newer_artifacts,
    read_sources,
    review_artifacts,
)
from recce_trio.core.checks import (
    CONFIG_FILE,
    Checklist,
    preset_checks,
    read_preset_checks,
)
from recce_trio.server import gateway
from recce_trio.warehouse.engine import CancelToken

log = logging.getLogger("recce_trio.core.state")


@dataclass
class RunningTask:
    """A run being computed: ``done`` is set when it ends, ``scope`` cancels it."""

    done: trio.Event = field(default_factory=trio.Event)
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    # A warehouse run's token: cancelling it interrupts the statement on the connection.
    token: CancelToken | None = None

    def cancel(self) -> None:
        self.scope.cancel()
        if self.token is not None:
            self.token.cancel()


def _file_id(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class ReviewSession:
    """The checklist of a running server and the state file it is loaded from and saved to."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.checklist = Checklist()
        self.state_file: Path | None = config.state_file
        self.state_loaded = False  # a state file was read: no presets then
        self.writable = False  # loading succeeded: only then may the file be written
        self.sources: dict[tuple[str, str], Source] = {}
        self.git: msgspec.Raw | dict[str, Any] | None = None
        self.pull_request: msgspec.Raw | dict[str, Any] | None = None
        self.running: dict[str, RunningTask] = {}
        self._index_of: LoadedArtifacts | None = None
        self._index_cache: tuple[LoadedArtifacts | None, dict[str, str], dict[str, str]] | None = (
            None
        )
        self._save_lock = trio.Lock()
        self._changes = 0
        self._saved_changes = 0
        self._file_id: tuple[int, int, int] | None = None
        self._all_saved = trio.Event()
        self._all_saved.set()
        # The last save of the state file failed: the exception's class name (shown by
        # /api/health, so never a path); cleared by the next save that succeeds.
        self.save_error: str | None = None
        self.final_save_failed = False

    # -- loading (in the server's startup task) --

    async def load_review(self, progress: LoadProgress) -> LoadedArtifacts:
        """Review mode: artifacts, checks and runs all from the state file."""
        path = self._require_state_file()
        recce_state, file_id = await gateway.run(gateway.STATE_FILE, _read_state, path)
        if recce_state is None:
            raise statefile.StateFileError(
                f"{path} does not exist; review mode needs a state file.", path=path
            )
        artifacts = await gateway.run(
            gateway.ARTIFACTS,
            lambda: review_artifacts(recce_state, path=path, progress=progress),
        )
        self._adopt(recce_state, file_id)
        self.sources = {key: recce_state.artifact(*key) for key in ARTIFACT_KEYS}
        return artifacts

    async def merge_state_file(
        self, artifacts: LoadedArtifacts, paths: ArtifactPaths
    ) -> LoadedArtifacts:
        """After the usual load from target/ and target-base/: the state file's checks and
        runs, and any of its artifacts newer than the loaded ones. A missing file is fine."""
        self.sources = file_sources(paths)
        path = self.state_file
        if path is None:
            return artifacts
        recce_state, file_id = await gateway.run(gateway.STATE_FILE, _read_state, path)
        if recce_state is None:
            log.info("%s does not exist yet: it will be created on the first save", path)
            return artifacts
        merged = await gateway.run(
            gateway.ARTIFACTS,
            lambda: merge_newer_artifacts(artifacts, self.sources, recce_state, path=path),
        )
        self._adopt(recce_state, file_id)
        return merged

    def _adopt(
        self, recce_state: statefile.RecceState, file_id: tuple[int, int, int] | None
    ) -> None:
        self.checklist.merge(recce_state.checks, recce_state.runs)
        self.git, self.pull_request = recce_state.git, recce_state.pull_request
        self.state_loaded = True
        self._file_id = file_id

    async def finish_load(self, artifacts: LoadedArtifacts) -> None:
        """Preset checks from recce.yml when no state was loaded; then saving is allowed."""
        config = self.config
        if not self.state_loaded:
            presets = await gateway.run(
                gateway.FILES, read_preset_checks, config.project_dir / CONFIG_FILE
            )
            self.checklist.checks.extend(preset_checks(presets))
        if not self.sources:
            paths = await gateway.run(
                gateway.FILES, ArtifactPaths.from_dirs, config.target_dir, config.target_base_dir
            )
            self.sources = file_sources(paths)
        if self.git is None and not config.review:
            self.git = await gateway.run(gateway.FILES, git_branch, config.project_dir)
        self._index(artifacts)
        if self.state_file is not None:
            removed = await gateway.run(
                gateway.STATE_FILE, statefile.remove_stale_temp_files, self.state_file
            )
            for leftover in removed:
                log.info("removed %s, left by a save that was interrupted", leftover)
        self.writable = True

    def artifacts_reloaded(self, artifacts: LoadedArtifacts, paths: ArtifactPaths | None) -> None:
        """New artifacts are served: from the files in ``paths`` (saves take them from there
        again), or, with None, from an imported state whose sources are already set."""
        if paths is not None:
            self.sources = file_sources(paths)
        self._index(artifacts)

    def _require_state_file(self) -> Path:
        if self.state_file is None:
            raise statefile.StateFileError("review mode needs a state file.", path="")
        return self.state_file

    # -- lookups --

    def _index(self, artifacts: LoadedArtifacts) -> None:
        """Names of these artifacts' nodes, looked up by ``node_name`` and ``name_to_id``:
        worked out on first use (``warm_index`` does it in a worker thread after ready), not
        here, where it would hold the event loop and the readiness of a large project
        (~50 ms for 45,000 nodes)."""
        self._index_of = artifacts

    def _lookup(self) -> tuple[dict[str, str], dict[str, str]]:
        artifacts = self._index_of
        cached = self._index_cache
        if cached is not None and cached[0] is artifacts:
            return cached[1], cached[2]
        names, name_to_id = name_index(artifacts) if artifacts is not None else ({}, {})
        self._index_cache = (artifacts, names, name_to_id)  # one assignment: thread-safe
        return names, name_to_id

    def warm_index(self) -> None:
        """Work out the name lookups now (blocking: run it in a worker thread)."""
        self._lookup()

    async def lookups_ready(self) -> None:
        """Work out the name lookups in a worker thread unless they already are: a request
        that needs them before the background has (right after ready) does not hold the
        event loop for them (~50 ms at 5,000 models)."""
        cached = self._index_cache
        if cached is None or cached[0] is not self._index_of:
            await gateway.run(gateway.FILES, self.warm_index)

    def node_name(self, unique_id: str) -> str | None:
        return self._lookup()[0].get(unique_id)

    def name_to_id(self) -> dict[str, str]:
        return self._lookup()[1]

    # -- saving --

    def note_change(self) -> None:
        """Call after every change a save must include."""
        self._changes += 1
        if self._all_saved.is_set():
            self._all_saved = trio.Event()

    async def wait_saved(self) -> None:
        """Return once every change noted so far is in the state file."""
        while self._saved_changes < self._changes:
            await self._all_saved.wait()

    async def encode(self) -> bytes:
        """The whole state file as it would be written now."""
        checks_json, runs_json = statefile.encode_records(
            self.checklist.checks, self.checklist.runs
        )
        sources = dict(self.sources)

        def build() -> bytes:
            return statefile.encode_state(
                checks_json=checks_json,
                runs_json=runs_json,
                artifacts=read_sources(sources),
                git=self.git,
                pull_request=self.pull_request,
            )

        return await gateway.run(gateway.STATE_FILE, build)

    async def save(self, path: Path | None = None, *, force: bool = False) -> bool:
        """Write the state file (or ``path``) if anything changed since the last save, or
        always with ``force``. Returns whether a file was written."""
        target = path or self.state_file
        if target is None or not self.writable:
            return False
        wanted = self._changes
        async with self._save_lock:
            if not force and path is None and self._saved_changes >= wanted:
                return False  # a save that started after our change already wrote it
            covered = self._changes
            ours = target == self.state_file
            try:
                data = await self.encode()
                file_id = await gateway.run(gateway.STATE_FILE, _write, target, data)
            except BaseException as exc:
                if ours and isinstance(exc, Exception):
                    self.save_error = type(exc).__name__
                raise
            if ours:
                self._file_id = file_id
                self._saved_changes = max(self._saved_changes, covered)
                self.save_error = None
                if self._saved_changes >= self._changes:
                    self._all_saved.set()
            log.debug("saved %s (%d bytes)", target, len(data))
            return True

    async def save_in_background(self) -> None:
        """The save after a check change. Errors are logged: the edit itself stays in memory."""
        try:
            await self.save()
        except (OSError, statefile.StateFileError) as exc:
            log.error("could not save the state file %s: %s", self.state_file, exc)

    async def save_at_shutdown(self) -> None:
        """Merge what another process wrote to the file since we last did, then write it.
        A failure is logged and noted (``final_save_failed``: the command exits non-zero)."""
        path = self.state_file
        if path is None or not self.writable:
            if path is None:
                log.info("No state file is provided. Skip storing the state.")
            return
        unsaved = self._changes > self._saved_changes
        try:
            if self._file_id is not None:
                other = await gateway.run(gateway.STATE_FILE, _read_if_changed, path, self._file_id)
                if other is not None:
                    self.checklist.merge(other.checks, other.runs)
            await self.save(force=True)
            log.info("state saved to %s", path)
        except (OSError, statefile.StateFileError) as exc:
            if not unsaved:  # e.g. a read-only review: nothing was changed, nothing is lost
                log.warning("did not save the state file %s at shutdown: %s", path, exc)
                return
            self.final_save_failed = True
            log.error("could not save the state file %s at shutdown: %s", path, exc)

    async def set_state_file(self, path: Path) -> None:
        self.state_file = path
        self._file_id = await gateway.run(gateway.FILES, _file_id, path)


def _read_state(path: Path) -> tuple[statefile.RecceState | None, tuple[int, int, int] | None]:
    return statefile.read_state(path), _file_id(path)


def _read_if_changed(path: Path, known: tuple[int, int, int]) -> statefile.RecceState | None:
    """The state file, if another process wrote it since ``known``."""
    if _file_id(path) in (None, known):
        return None
    return statefile.read_state(path)


def _write(path: Path, data: bytes) -> tuple[int, int, int] | None:
    statefile.write_atomic(path, data)
    return _file_id(path)


def resolve_new_name(
    current: Path | None, filename: Any, *, project_dir: Path
) -> tuple[Path | None, str | None, int]:
    """Where save-as/rename would write ``filename``: ``(path, error, status)``."""
    if not isinstance(filename, str) or not filename:
        return None, "The new filename is required", 400
    if os.path.dirname(filename) or filename in (".", "..") or "\x00" in filename:
        return None, "The new filename should not contain directory", 400
    if not filename.endswith(".json"):
        return None, "The new filename should end with .json", 400
    if current is not None:
        if current.name == filename:
            return None, "The new filename is the same as the current filename", 400
        return current.parent / filename, None, 200
    return project_dir / filename, None, 200


def name_index(artifacts: LoadedArtifacts) -> tuple[dict[str, str], dict[str, str]]:
    """``({unique_id: name}, {name: unique_id})`` of both manifests' nodes, current over
    base. Row counts name models: the second maps a name to the model of that name where a
    source (or an exposure, a saved query) has the same name; semantic models, metrics and
    tests are left out of it."""
    names: dict[str, str] = {}
    name_to_id: dict[str, str] = {}
    for manifest in (artifacts.base_manifest, artifacts.current_manifest):
        for part in (
            manifest.nodes,
            manifest.sources,
            manifest.exposures,
            manifest.metrics,
            manifest.semantic_models,
            manifest.saved_queries,
            manifest.unit_tests,
            manifest.functions,
        ):  # Manifest.all_nodes's order: a later part wins
            names.update(zip(part, map(_name, part.values()), strict=True))
        for part in (manifest.sources, manifest.exposures, manifest.saved_queries, manifest.nodes):
            name_to_id.update(
                {
                    node.name: uid
                    for uid, node in part.items()
                    if node.resource_type not in _UNNAMED_TYPES
                }
            )
    return names, name_to_id


_name = attrgetter("name")
_UNNAMED_TYPES = frozenset({"semantic_model", "metric", "test"})
