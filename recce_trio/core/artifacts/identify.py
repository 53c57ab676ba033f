"""What a document is (kind and dbt schema version), read from its first bytes, and decoder
errors turned into ones a person can act on: shared by the manifest and catalog readers."""

from __future__ import annotations

import errno
import mmap
import os
import re
import stat
from pathlib import Path
from typing import NamedTuple

import msgspec

from recce_trio.errors import (
    ArtifactDecodeError,
    ArtifactNotFoundError,
    ArtifactReadError,
    NotADbtArtifactError,
    UnsupportedSchemaVersionError,
)

# 0 stands for the manifests of dbt before 0.19, which carry no dbt_schema_version.
# v20 was written by early dbt Fusion previews (later previews write v12 again).
SUPPORTED_MANIFEST_VERSIONS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20)

# dbt-core writes "metadata" first with "dbt_schema_version" as its first key, so the version
# of nearly every file is known from its first bytes, before the expensive decode starts.
_HEAD = re.compile(rb'\s*\{\s*"metadata"\s*:\s*\{\s*"dbt_schema_version"\s*:\s*"([^"\\]{1,200})"')
_HEAD_BYTES = 1024
_HEAD_DBT_VERSION = re.compile(rb'\s*,\s*"dbt_version"\s*:\s*"([^"\\]{1,100})"')
_SCHEMA_URL = re.compile(r"/dbt/([A-Za-z_-]+)/v(\d+)\.json$")

# What each schema URL's kind is called on disk, for messages.
_FILE_NAMES = {
    "manifest": "manifest.json",
    "catalog": "catalog.json",
    "run-results": "run_results.json",
    "sources": "sources.json",
    "semantic-manifest": "semantic_manifest.json",
}
# Which dbt writes what, for the hint on a version we do not read.
_LATEST = {
    "manifest": "dbt-core 1.8 to 1.11 write manifest v12",
    "catalog": "every dbt since 0.19 writes catalog v1",
}
_GENERATE_HINT = (
    "Generate it with `dbt docs generate` (or `dbt parse` for the manifest alone) and point "
    "recce-trio at the target folder that holds it."
)


class ArtifactId(NamedTuple):
    """What a JSON document is: ``kind`` is the schema URL's kind ("manifest", "catalog", ...)
    or None if it is not recognisably a dbt artifact; ``schema_version`` is 0 before v1."""

    kind: str | None
    schema_version: int | None
    dbt_version: str | None = None
    generated_at: str | None = None
    description: str = ""


# An artifact's bytes: read into memory, or the file mapped (``map_artifact``).
Document = bytes | mmap.mmap


def read_artifact_bytes(path: Path, *, kind: str) -> bytes:
    """Read a whole artifact file; OS errors become ArtifactNotFoundError/ArtifactReadError.

    Only a regular file (or a symbolic link to one) is read: a FIFO would block the reader
    until something writes to it, and a device such as ``/dev/zero`` never ends.
    """
    document = _open_artifact(path, kind=kind, mapped=False)
    assert isinstance(document, bytes)
    return document


def map_artifact(path: Path, *, kind: str) -> Document:
    """``read_artifact_bytes``, but the file mapped into memory rather than copied (an empty
    file is read): no copy of a 100 MB file and no page faults for one, ~70 ms of CPU. For a
    short-lived decoder process only: should the file be cut short while mapped, reading past
    its new end kills the process with SIGBUS (``server/decoders.py`` says what happened)."""
    return _open_artifact(path, kind=kind, mapped=True)


def _open_artifact(path: Path, *, kind: str, mapped: bool) -> Document:
    path = Path(path)
    name = _FILE_NAMES.get(kind, kind)
    try:
        refuse_unless_regular(path, os.stat(path).st_mode, name=name)
        # O_NONBLOCK: should the path become a FIFO after the check above, opening it must
        # not wait for a writer; fstat then refuses it.
        try:
            fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC)
        except BlockingIOError:
            # A regular file leased by another process (a file server, say): wait for the
            # lease to be released or broken, as any reader would.
            fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
        with open(fd, "rb") as file:
            refuse_unless_regular(path, os.fstat(fd).st_mode, name=name)
            if _O_NONBLOCK:
                os.set_blocking(fd, True)
            if mapped and os.fstat(fd).st_size > 0:
                try:
                    return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
                except OSError as exc:
                    if exc.errno == errno.ENOMEM:  # over the address-space cap, as read would be
                        raise MemoryError(str(exc)) from None
                    raise
            return file.read()
    except FileNotFoundError:
        raise missing_artifact_error(path, kind) from None
    except PermissionError:
        raise ArtifactReadError(
            f"no permission to read {path}.",
            path=path,
            hint="Make the file readable by the user running recce-trio.",
        ) from None
    except OSError as exc:
        raise ArtifactReadError(
            f"could not read {path}: {exc.strerror or exc}.", path=path
        ) from None


_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_FILE_TYPES = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def refuse_unless_regular(path: Path, mode: int, *, name: str) -> None:
    """Raise ArtifactReadError, naming what ``path`` is, unless ``mode`` is a regular file's."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ArtifactReadError(
            f"{path} is a directory, not a {name} file.",
            path=path,
            hint=f"Point at the target folder that contains {name}, or at the file itself.",
        )
    what = next((label for test, label in _FILE_TYPES if test(mode)), "a special file")
    if path.is_symlink():
        what = f"a symbolic link to {os.path.realpath(path)}, which is {what}"
    raise ArtifactReadError(
        f"{path} is {what}, not a regular {name} file.",
        path=path,
        hint=(
            f"recce-trio reads artifacts from regular files only (a symbolic link to one is "
            f"fine): point it at the {name} that dbt wrote, or copy the artifact to a file."
        ),
    )


def missing_artifact_error(
    path: Path, kind: str, *, env: str | None = None
) -> ArtifactNotFoundError:
    """The error for an artifact file that does not exist, with the dbt command that makes it.
    ``env`` ("base" or "current") if known; else guessed from the folder's name."""
    name = _FILE_NAMES.get(kind, kind)
    folder = path.parent.name
    if env == "base" or (env is None and "base" in folder):
        hint = (
            f"Run `dbt docs generate --target-path {folder}` on the base branch "
            "(or `dbt parse`, for the lineage without columns)."
        )
    else:
        option = "" if folder == "target" else f" --target-path {folder}"
        hint = (
            f"Run `dbt docs generate{option}` on the current branch "
            "(or `dbt parse`, for the lineage without columns)."
        )
    where = f"{env} environment's " if env else ""
    return ArtifactNotFoundError(
        f"{where}{name} not found in {path.parent}/ (looked at {path}).", path=path, hint=hint
    )


def sniff_head(data: Document) -> ArtifactId | None:
    """The artifact's identity from its first bytes, or None if they do not tell (cheap)."""
    match = _HEAD.match(data, 0, _HEAD_BYTES)
    if match is None:
        return None
    # Only for messages: dbt-core writes dbt_version right after dbt_schema_version.
    version = _HEAD_DBT_VERSION.match(data, match.end(), match.end() + 200)
    dbt_version = version.group(1).decode("utf-8", "replace") if version else None
    return parse_schema_url(match.group(1).decode("utf-8", "replace"), dbt_version=dbt_version)


def parse_schema_url(url: str, *, dbt_version: str | None = None) -> ArtifactId:
    """Kind and version of ``https://schemas.getdbt.com/dbt/<kind>/v<N>.json``."""
    match = _SCHEMA_URL.search(url)
    if match is None:
        described = f"JSON whose dbt_schema_version {url!r} is not dbt's"
        return ArtifactId(None, None, dbt_version, description=described)
    return ArtifactId(match.group(1), int(match.group(2)), dbt_version)


def identify(data: Document, *, path: Path | str) -> ArtifactId:
    """Tell what a JSON document is from its metadata or, before v1, its top-level keys.

    Costs a skim of the whole document (no objects are built below the top level).
    """
    try:
        top = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
    except msgspec.ValidationError as exc:
        # Valid so far, but the top level is not an object.
        return ArtifactId(None, None, description=f"JSON whose top level is not an object ({exc})")
    except (msgspec.DecodeError, RecursionError) as exc:
        raise json_error(exc, data, path=path) from None

    metadata = _decode_raw(top.get("metadata"))
    if isinstance(metadata, dict) and isinstance(metadata.get("dbt_schema_version"), str):
        dbt_version = metadata.get("dbt_version")
        return parse_schema_url(
            metadata["dbt_schema_version"],
            dbt_version=dbt_version if isinstance(dbt_version, str) else None,
        )

    keys = set(top)
    raw_generated_at = _decode_raw(top.get("generated_at"))
    generated_at = raw_generated_at if isinstance(raw_generated_at, str) else None
    if {"nodes", "macros", "generated_at"} <= keys:
        return ArtifactId("manifest", 0, None, generated_at)
    if {"nodes", "generated_at", "errors"} <= keys:
        return ArtifactId("catalog", 0, None, generated_at)
    if "results" in keys and "generated_at" in keys:
        return ArtifactId("run-results", 0, None, generated_at)
    if {"checks", "artifacts"} <= keys:
        return ArtifactId(None, None, description="a Recce state file (recce_state.json)")
    shown = ", ".join(sorted(keys)[:8]) or "none"
    return ArtifactId(None, None, description=f"a JSON object with top-level keys: {shown}")


def _decode_raw(raw: msgspec.Raw | None) -> object:
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None


def describe_versions(versions: tuple[int, ...]) -> str:
    """``(0, 1, 2, ..., 12, 20)`` -> "pre-v1, v1-v12, v20"."""
    parts: list[str] = []
    runs: list[list[int]] = []
    for v in versions:
        if runs and v == runs[-1][-1] + 1 and v != 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    for run in runs:
        if run == [0]:
            parts.append("pre-v1")
        elif len(run) == 1:
            parts.append(f"v{run[0]}")
        else:
            parts.append(f"v{run[0]}-v{run[-1]}")
    return ", ".join(parts)


def check_artifact(
    found: ArtifactId, *, want: str, supported: tuple[int, ...], path: Path | str
) -> int:
    """The schema version of ``found``; refuses anything but a supported ``want`` artifact."""
    name = _FILE_NAMES[want]
    if found.kind is None:
        raise NotADbtArtifactError(
            f"{path} is not a dbt {want}: it is {found.description or 'not a dbt artifact'}.",
            path=path,
            hint=_GENERATE_HINT,
        )
    if found.kind != want:
        other = _FILE_NAMES.get(found.kind, f"a dbt {found.kind} artifact")
        raise NotADbtArtifactError(
            f"{path} is not a dbt {want}: it looks like {other} ({found.kind} schema "
            f"{_version_label(found.schema_version)}).",
            path=path,
            hint=f"Point recce-trio at {name}, which dbt writes in the same target folder.",
        )
    if found.schema_version is None or found.schema_version not in supported:
        written_by = f", written by dbt {found.dbt_version}" if found.dbt_version else ""
        raise UnsupportedSchemaVersionError(
            f"{path} is a dbt {want} of schema {_version_label(found.schema_version)}{written_by}; "
            f"recce-trio reads {want} schema versions {describe_versions(supported)}.",
            path=path,
            hint=(
                "It is newer than this recce-trio knows: upgrade recce-trio, or regenerate the "
                f"{want} with a dbt that writes a supported schema ({_LATEST[want]})."
            ),
        )
    return found.schema_version


def _version_label(version: int | None) -> str:
    if version is None:
        return "of unknown version"
    return "pre-v1" if version == 0 else f"v{version}"


def explain_failure(
    exc: Exception, data: Document, *, want: str, supported: tuple[int, ...], path: Path | str
) -> Exception:
    """The error to raise when the typed decode failed: bad JSON, another artifact, another
    version, or (only then) a supported artifact with a shape we did not expect."""
    if not isinstance(exc, msgspec.ValidationError):
        return json_error(exc, data, path=path)
    found = identify(data, path=path)  # raises ArtifactDecodeError for bad JSON
    check_artifact(found, want=want, supported=supported, path=path)
    return ArtifactDecodeError(
        f"{path} is a dbt {want} ({_version_label(found.schema_version)}) but has a shape "
        f"recce-trio does not expect: {exc}.",
        path=path,
        hint="Regenerate it with dbt; if dbt wrote it as is, please report a recce-trio bug.",
    )


def json_error(exc: BaseException, data: Document, *, path: Path | str) -> ArtifactDecodeError:
    """An ``ArtifactDecodeError`` for bytes that are not one valid JSON document."""
    size = len(data)
    if not bytes(data).strip():  # a mapped file is copied, on this failure path only
        return ArtifactDecodeError(
            f"{path} is empty ({size} bytes), not JSON.",
            path=path,
            hint="Regenerate it with dbt; the write may have been interrupted.",
        )
    if isinstance(exc, RecursionError):
        return ArtifactDecodeError(f"{path} is nested too deeply to be a dbt artifact.", path=path)
    reason = str(exc)
    if "truncated" in reason:
        return ArtifactDecodeError(
            f"{path} is not valid JSON: it ends early at byte {size} ({reason}).",
            path=path,
            hint="The file looks truncated (copied while dbt was writing it?). Regenerate it.",
        )
    if "trailing characters" in reason:
        return ArtifactDecodeError(
            f"{path} is not valid JSON: {reason}; more follows the first complete document.",
            path=path,
            hint="The file seems to hold two documents written one after the other. Regenerate it.",
        )
    return ArtifactDecodeError(
        f"{path} is not valid JSON: {reason}.",
        path=path,
        hint="Regenerate it with dbt.",
    )
