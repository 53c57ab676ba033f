"""The state file (recce_state.json, schema v0): pure (de)serialisation plus one atomic write.

The four dbt artifacts inside a state file are carried as raw JSON bytes (``msgspec.Raw``):
they are validated but never turned into Python objects here, and written back byte for byte.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import stat
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from recce_trio import __version__
from recce_trio.core.checks import RUN_TYPES, Check, Run, parse_time, to_builtins, utc_now
from recce_trio.core.runresults import upgrade_run_result
from recce_trio.errors import RecceTrioError

SCHEMA_VERSION = "v0"
ENVS = ("base", "current")
KINDS = ("manifest", "catalog")
# Recce's name for the version it writes into metadata; ours says which tool wrote the file.
RECCE_VERSION = f"recce-trio {__version__}"


class StateFileError(RecceTrioError):
    """A state file recce-trio will neither use nor overwrite. ``path`` names it."""

    def __init__(self, message: str, *, path: Path | str, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.path = Path(path)


class StateFileCorruptError(StateFileError):
    """Not JSON: empty, truncated, or garbage."""


class NotAStateFileError(StateFileError):
    """JSON, but not a Recce state file (e.g. a dbt manifest), or a field of the wrong type."""


class UnsupportedStateVersionError(StateFileError):
    """A state file of a schema version other than v0."""


class StateArtifactsMissingError(StateFileError):
    """Review mode needs both manifests inside the state file."""


_NOT_OURS_HINT = (
    "Pass a recce_state.json written by `recce run`, `recce server` or recce-trio; the file "
    "was left untouched."
)


class _Metadata(msgspec.Struct):
    schema_version: str | None = None
    recce_version: str | None = None
    generated_at: str | None = None


class _Artifacts(msgspec.Struct):
    base: dict[str, msgspec.Raw] = {}
    current: dict[str, msgspec.Raw] = {}


class _Document(msgspec.Struct):
    metadata: _Metadata | msgspec.UnsetType | None = msgspec.UNSET
    runs: list[Run] | msgspec.UnsetType | None = msgspec.UNSET
    checks: list[Check] | msgspec.UnsetType | None = msgspec.UNSET
    artifacts: _Artifacts | msgspec.UnsetType = msgspec.UNSET
    git: msgspec.Raw = msgspec.Raw(b"null")
    pull_request: msgspec.Raw = msgspec.Raw(b"null")


class _ArtifactHead(msgspec.Struct):
    class _Meta(msgspec.Struct):
        generated_at: str | None = None

    metadata: _Meta | None = None


@dataclass
class RecceState:
    """A state file's content. ``artifacts`` maps ``(env, kind)`` to the raw JSON, or None."""

    checks: list[Check] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    artifacts: dict[tuple[str, str], bytes | None] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    git: msgspec.Raw | None = None
    pull_request: msgspec.Raw | None = None

    def artifact(self, env: str, kind: str) -> bytes | None:
        return self.artifacts.get((env, kind))


def decode_state(data: bytes, *, path: Path | str) -> RecceState:
    """Parse a state file's bytes. Raises a ``StateFileError`` subclass naming what is wrong."""
    try:
        doc = msgspec.json.decode(data, type=_Document)
    except msgspec.ValidationError as exc:
        raise NotAStateFileError(
            f"{path} is not a Recce state file: {exc}", path=path, hint=_NOT_OURS_HINT
        ) from None
    except msgspec.DecodeError as exc:
        what = "empty" if not data.strip() else f"not valid JSON ({exc})"
        raise StateFileCorruptError(
            f"{path} is {what}.",
            path=path,
            hint="Restore it from a backup or move it away to start a new one; recce-trio "
            "will not overwrite it.",
        ) from None
    if all(value is msgspec.UNSET for value in (doc.runs, doc.checks, doc.artifacts)):
        raise NotAStateFileError(
            f"{path} is not a Recce state file (it has no runs, checks or artifacts).",
            path=path,
            hint=_NOT_OURS_HINT,
        )
    metadata = doc.metadata if isinstance(doc.metadata, _Metadata) else None
    if metadata is not None and metadata.schema_version not in (None, SCHEMA_VERSION):
        raise UnsupportedStateVersionError(
            f"Unsupported state file version: {metadata.schema_version} (in {path}); "
            f"recce-trio reads {SCHEMA_VERSION}.",
            path=path,
        )
    checks = doc.checks if isinstance(doc.checks, list) else []
    runs = doc.runs if isinstance(doc.runs, list) else []
    sections: list[tuple[str, Sequence[Check | Run]]] = [("checks", checks), ("runs", runs)]
    for kind, records in sections:
        for i, record in enumerate(records):
            if record.type not in RUN_TYPES:
                raise NotAStateFileError(
                    f"{path}: {kind}[{i}] has unknown type {record.type!r}.",
                    path=path,
                    hint=_NOT_OURS_HINT,
                )
    for run in runs:  # older Recce wrote DataFrame columns without "key": as Recce, upgrade
        if run.result is not None:
            run.result = upgrade_run_result(run.type, run.result)
    artifacts: dict[tuple[str, str], bytes | None] = {}
    if isinstance(doc.artifacts, _Artifacts):
        for env in ENVS:
            part: dict[str, msgspec.Raw] = getattr(doc.artifacts, env)
            for kind in KINDS:
                raw = part.get(kind)
                value = bytes(raw) if raw is not None else None
                artifacts[(env, kind)] = None if value in (None, b"null") else value
    return RecceState(
        checks=checks,
        runs=runs,
        artifacts=artifacts,
        metadata=msgspec.structs.asdict(metadata) if metadata is not None else None,
        git=_none_if_null(doc.git),
        pull_request=_none_if_null(doc.pull_request),
    )


def _none_if_null(raw: msgspec.Raw) -> msgspec.Raw | None:
    return None if bytes(raw).strip() == b"null" else raw


def read_state(path: Path) -> RecceState | None:
    """Read and parse a state file; None if it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise NotAStateFileError(f"{path} is a directory, not a state file.", path=path) from None
    except OSError as exc:
        raise StateFileError(f"cannot read {path}: {exc.strerror}", path=path) from None
    return decode_state(data, path=path)


def encode_records(checks: list[Check], runs: list[Run]) -> tuple[bytes, bytes]:
    """Checks and runs as JSON arrays, None fields left out as Recce writes them. Cheap; done
    on the event loop so that the snapshot is consistent."""
    return (
        msgspec.json.encode([to_builtins(c, exclude_none=True) for c in checks]),
        msgspec.json.encode([to_builtins(r, exclude_none=True) for r in runs]),
    )


def encode_state(
    *,
    checks_json: bytes,
    runs_json: bytes,
    artifacts: dict[tuple[str, str], bytes | None],
    git: msgspec.Raw | dict[str, Any] | None = None,
    pull_request: msgspec.Raw | dict[str, Any] | None = None,
    generated_at: str | None = None,
) -> bytes:
    """A whole state file. Artifacts must be valid JSON (``validate_artifact``)."""
    document: dict[str, Any] = {
        "metadata": {
            "schema_version": SCHEMA_VERSION,
            "recce_version": RECCE_VERSION,
            "generated_at": generated_at or utc_now(),
        },
        "runs": msgspec.Raw(runs_json),
        "checks": msgspec.Raw(checks_json),
        "artifacts": {
            env: {kind: _raw_or_none(artifacts.get((env, kind))) for kind in KINDS} for env in ENVS
        },
    }
    if git is not None:
        document["git"] = git
    if pull_request is not None:
        document["pull_request"] = pull_request
    return msgspec.json.encode(document)


def _raw_or_none(data: bytes | None) -> msgspec.Raw | None:
    return None if data is None else msgspec.Raw(data)


def validate_artifact(data: bytes, *, path: Path | str) -> bytes:
    """Refuse bytes that are not one JSON document, so a state file is never written broken."""
    try:
        msgspec.json.decode(data, type=msgspec.Raw)
    except msgspec.DecodeError as exc:
        raise StateFileError(
            f"{path} is not valid JSON right now ({exc}); is dbt still writing it?", path=path
        ) from None
    return data


def artifact_generated_at(data: bytes) -> dt.datetime:
    """``metadata.generated_at`` of a raw artifact, for the newer-wins merge."""
    try:
        head = msgspec.json.decode(data, type=_ArtifactHead)
    except msgspec.MsgspecError:
        return parse_time(None)
    return parse_time(head.metadata.generated_at if head.metadata else None)


STALE_TEMP_AGE_S = 600.0


def remove_stale_temp_files(path: Path) -> list[Path]:
    """Delete what a writer killed mid-save left beside ``path`` (its ``.NAME.*.tmp`` files),
    if older than ten minutes: a younger one may belong to a save in progress elsewhere."""
    target = Path(os.path.realpath(path))
    removed = []
    now = time.time()
    for candidate in target.parent.glob(f".{target.name}.*.tmp"):
        try:
            if now - candidate.stat().st_mtime > STALE_TEMP_AGE_S:
                candidate.unlink()
                removed.append(candidate)
        except OSError:
            continue
    return removed


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash at any moment leaves the old or the new file.

    Writes a temporary file in the same folder, fsyncs it, renames it over ``path`` and fsyncs
    the folder. The file keeps its permissions; a symlink is followed, not replaced.
    """
    target = Path(os.path.realpath(path))
    folder = target.parent
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    else:
        # A rename would replace a read-only file too; refuse as a plain write would. The
        # mode bits count even for root (who passes every access check): a file nobody may
        # write to is one somebody wants kept as it is.
        if not os.access(target, os.W_OK) or not mode & 0o222:
            raise PermissionError(errno.EACCES, "the state file is read-only", str(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
