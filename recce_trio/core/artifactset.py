"""The four artifacts of a review as one set: their load progress, the loaded records, and how
they are read from a state file or merged with one (for the server and the offline commands)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from recce_trio.core import state as statefile
from recce_trio.core.artifacts import Catalog, Manifest, decode_catalog, decode_manifest
from recce_trio.core.artifacts.files import ARTIFACTS, ArtifactPaths, artifact_key
from recce_trio.core.checks import parse_time
from recce_trio.core.side import Side

log = logging.getLogger("recce_trio.core.artifactset")

PENDING, LOADING, LOADED, MISSING, FAILED = "pending", "loading", "loaded", "missing", "failed"


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

    def fail_unfinished(self, error: str) -> None:
        """Mark every artifact the load did not finish as failed with ``error`` (the class
        name of why the load was stopped, e.g. ``StartupTimeoutError``)."""
        with self._lock:
            for status in self.artifacts.values():
                if status.state in (PENDING, LOADING) or (
                    status.state == FAILED and status.error is None
                ):
                    status.state, status.error = FAILED, error

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
    # Each manifest's ``Side`` if the loader made it already (``build_review`` uses the one
    # made for the very manifest it reads, makes any other itself, and lets these go).
    prepared: tuple[Side, ...] = field(default=(), repr=False, compare=False)


Source = Path | bytes | None
ARTIFACT_KEYS = tuple((env, kind) for env in statefile.ENVS for kind in statefile.KINDS)


def review_artifacts(
    recce_state: statefile.RecceState,
    *,
    path: Path,
    progress: LoadProgress | None = None,
) -> LoadedArtifacts:
    """Decode the four artifacts kept in a state file (review mode)."""
    for env in ("base", "current"):
        if recce_state.artifact(env, "manifest") is None:
            raise statefile.StateArtifactsMissingError(
                f"{path} has no {env} manifest, which review mode needs.",
                path=path,
                hint="Write the state with `recce run` (or recce-trio) in a project that has "
                "both target/ and target-base/.",
            )
    decoded: dict[tuple[str, str], Any] = {}
    for env, kind in ARTIFACT_KEYS:
        key = artifact_key(env, kind)
        raw = recce_state.artifact(env, kind)
        if raw is None:
            if progress is not None:
                progress.update(key, state=MISSING)
            decoded[(env, kind)] = None
            continue
        start = time.perf_counter()
        if progress is not None:
            progress.update(key, state=LOADING, size_bytes=len(raw))
        where = f"{path} (artifacts.{env}.{kind})"
        decode = decode_manifest if kind == "manifest" else decode_catalog
        decoded[(env, kind)] = decode(raw, path=where)
        if progress is not None:
            progress.update(key, state=LOADED, elapsed_s=time.perf_counter() - start)
    return LoadedArtifacts(
        base_manifest=decoded[("base", "manifest")],
        current_manifest=decoded[("current", "manifest")],
        base_catalog=decoded[("base", "catalog")],
        current_catalog=decoded[("current", "catalog")],
        single_env=False,
    )


def merge_newer_artifacts(
    artifacts: LoadedArtifacts,
    sources: dict[tuple[str, str], Source],
    recce_state: statefile.RecceState,
    *,
    path: Path,
) -> LoadedArtifacts:
    """Recce's artifact merge: for each of the four, the state's copy replaces the loaded one
    if its ``generated_at`` is newer (or nothing was loaded). ``sources`` is updated."""
    loaded = {
        ("base", "manifest"): artifacts.base_manifest,
        ("current", "manifest"): artifacts.current_manifest,
        ("base", "catalog"): artifacts.base_catalog,
        ("current", "catalog"): artifacts.current_catalog,
    }
    for env, kind in ARTIFACT_KEYS:
        raw = recce_state.artifact(env, kind)
        if raw is None:
            continue
        mine = loaded[(env, kind)]
        mine_at = mine.metadata.generated_at if mine is not None else None
        if mine is not None and statefile.artifact_generated_at(raw) <= parse_time(mine_at):
            continue
        decode = decode_manifest if kind == "manifest" else decode_catalog
        loaded[(env, kind)] = decode(raw, path=f"{path} (artifacts.{env}.{kind})")
        sources[(env, kind)] = raw
        log.info("using the %s %s from %s: it is newer than the one on disk", env, kind, path)
    # Each key only ever holds its own kind: ``loaded`` mixes them, so say which is which.
    return LoadedArtifacts(
        base_manifest=cast(Manifest, loaded[("base", "manifest")]),
        current_manifest=cast(Manifest, loaded[("current", "manifest")]),
        base_catalog=cast("Catalog | None", loaded[("base", "catalog")]),
        current_catalog=cast("Catalog | None", loaded[("current", "catalog")]),
        single_env=artifacts.single_env,
        prepared=artifacts.prepared,  # build_review uses those made for the manifests kept
    )


def file_sources(paths: ArtifactPaths) -> dict[tuple[str, str], Source]:
    return {(env, kind): paths.path(env, kind) for env, kind in ARTIFACT_KEYS}


def read_sources(sources: dict[tuple[str, str], Source]) -> dict[tuple[str, str], bytes | None]:
    """The artifacts' JSON for a state file: kept bytes as they are, files read (and checked
    to be whole JSON documents) now."""
    out: dict[tuple[str, str], bytes | None] = {}
    for key, source in sources.items():
        if isinstance(source, Path):
            try:
                out[key] = statefile.validate_artifact(source.read_bytes(), path=source)
            except FileNotFoundError:
                out[key] = None
        else:
            out[key] = source
    return out


def git_branch(project_dir: Path) -> dict[str, str] | None:
    """``{"branch": name}`` from .git/HEAD (Recce asks GitPython); None if not on a branch."""
    for folder in (project_dir.resolve(), *project_dir.resolve().parents):
        head = folder / ".git" / "HEAD"
        if head.is_file():
            text = head.read_text(errors="replace").strip()
            prefix = "ref: refs/heads/"
            return {"branch": text[len(prefix) :]} if text.startswith(prefix) else None
    return None


# ---- the session ----
