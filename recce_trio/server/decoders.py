"""Decode one artifact in a child process and stream its records back in small frames.

Why a process: a C JSON decoder holds the GIL for a whole file, so decoding a 100 MB
manifest in a thread of the server stalls its event loop for about half a second. The child
does that decode on its own interpreter (and the machine's other core); the parent only
decodes compact msgpack frames of a few hundred records each, between which its event loop
runs. See docs/startup.md for the measurements behind this choice.

Wire format on the child's stdout: frames of ``<u32 length><1 byte tag><msgpack payload>``.
  H  the artifact with its record dicts emptied (metadata, schema_version)
  N  (section, [(key, Node), ...])          manifest sections: nodes, sources, exposures, ...
  M  [(key, Macro), ...]
  T  (section, [(key, CatalogTable), ...])  catalog sections: nodes, sources
  E  {"class", "message", "hint"}    a RecceTrioError (or other failure) while decoding
  Z  {"peak_rss_kb"}                  end of artifact, with the child's peak memory
"""

from __future__ import annotations

import gc
import os
import resource
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from queue import SimpleQueue
from typing import IO, BinaryIO, cast

import msgspec

from recce_trio import errors
from recce_trio.core.artifacts.files import ARTIFACTS, ArtifactPaths, artifact_key
from recce_trio.core.artifacts.records import Catalog, CatalogTable, Macro, Manifest, Node

CATALOG_SECTIONS = ("nodes", "sources")
CHUNK = 128
# The child lowers its priority before its imports: the server's event loop must answer health
# probes at once even when decoders outnumber the cores.
_BOOTSTRAP = (
    "import os, sys; os.nice(10); "
    "from recce_trio.server.decoders import main; sys.exit(main(sys.argv[1:]))"
)
_HEAD = struct.Struct(">IB")


def _write(out: BinaryIO, tag: bytes, payload: bytes) -> None:
    out.write(_HEAD.pack(len(payload), tag[0]))
    out.write(payload)


def _frames(kind: str, path: Path) -> Iterator[tuple[bytes, bytes]]:
    """The artifact as (tag, payload) frames; an error becomes an ``E`` frame."""
    from recce_trio.core.artifacts.catalog import read_catalog
    from recce_trio.core.artifacts.identify import read_artifact_bytes
    from recce_trio.core.artifacts.manifest import Chunk, iter_manifest

    enc = msgspec.msgpack.Encoder()
    try:
        if kind == "manifest":
            # Record by record, so the parent can decode the first frames while the rest of
            # the file is still being decoded here.
            pieces = iter_manifest(
                read_artifact_bytes(path, kind="manifest"), path=path, chunk=CHUNK
            )
            yield b"H", enc.encode(next(pieces))
            for section, records in cast(Iterator[Chunk], pieces):
                if section == "macros":
                    yield b"M", enc.encode(records)
                else:
                    yield b"N", enc.encode((section, records))
        else:
            catalog = read_catalog(path)
            yield b"H", enc.encode(msgspec.structs.replace(catalog, nodes={}, sources={}))
            for name in CATALOG_SECTIONS:
                records = list(getattr(catalog, name).items())
                for start in range(0, len(records), CHUNK):
                    yield b"T", enc.encode((name, records[start : start + CHUNK]))
    except errors.RecceTrioError as exc:
        message = {"class": type(exc).__name__, "message": exc.message, "hint": exc.hint}
        yield b"E", enc.encode(message)
        return
    except Exception as exc:  # an unexpected decoder failure must still reach the parent
        message = {"class": "ArtifactDecodeError", "message": f"{path}: {exc}", "hint": ""}
        yield b"E", enc.encode(message)
        return
    peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield b"Z", enc.encode({"peak_rss_kb": peak_rss_kb})


def _stream(kind: str, path: Path, out: BinaryIO) -> None:
    """Decode and write at once: a writer thread sends frames while decoding goes on, so a
    parent that is still busy (importing its web stack, say) never holds the decode up."""
    queue: SimpleQueue[tuple[bytes, bytes] | None] = SimpleQueue()

    def writer() -> None:
        try:
            while (frame := queue.get()) is not None:
                _write(out, *frame)
            out.flush()
        except BrokenPipeError:  # the parent has gone (deadline, shutdown): nothing to do
            pass

    thread = threading.Thread(target=writer, name="frame writer")
    thread.start()
    for frame in _frames(kind, path):
        queue.put(frame)
    queue.put(None)
    thread.join()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("manifest", "catalog"):
        print("usage: python -m recce_trio.server.decoders manifest|catalog PATH", file=sys.stderr)
        return 2
    gc.disable()  # a short-lived process: collections would only cost time
    _stream(argv[0], Path(argv[1]), sys.stdout.buffer)
    # Skip the interpreter's teardown: freeing a hundred megabytes of objects one by one
    # would keep the parent waiting for nothing.
    os._exit(0)


_header_decoders: dict[
    str, msgspec.msgpack.Decoder[Manifest] | msgspec.msgpack.Decoder[Catalog]
] = {
    "manifest": msgspec.msgpack.Decoder(Manifest),
    "catalog": msgspec.msgpack.Decoder(Catalog),
}
_node_chunk = msgspec.msgpack.Decoder(tuple[str, list[tuple[str, Node]]])
_table_chunk = msgspec.msgpack.Decoder(tuple[str, list[tuple[str, CatalogTable]]])
_macro_chunk = msgspec.msgpack.Decoder(list[tuple[str, Macro]])
_error = msgspec.msgpack.Decoder(dict[str, str])
_stats = msgspec.msgpack.Decoder(dict[str, int])


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


class DecoderProcess:
    """A child process decoding one artifact. Start it early; collect with ``result()``.

    The child does the expensive JSON decode as soon as it starts, then blocks on its pipe
    until the parent reads the frames, so starting it before the server's own imports hides
    most of the decode behind them.
    """

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = path
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, kind, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )

    def result(
        self,
        *,
        between_frames: Callable[[], None] | None = None,
        stats: dict[str, int] | None = None,
    ) -> Manifest | Catalog:
        """Read the child's frames into records; re-raise its error as the same class.

        ``between_frames`` runs after every frame (use it to notice cancellation);
        ``stats`` receives the child's ``peak_rss_kb``.
        """
        try:
            assert self.process.stdout is not None
            result = _receive(self.kind, self.path, self.process.stdout, between_frames, stats)
            if result is None:
                code = self.process.wait()
                self._stderr.seek(0)
                tail = self._stderr.read()[-2000:].decode(errors="replace").strip()
                raise errors.ArtifactReadError(
                    f"the decoder process for {self.path} exited with code {code} before "
                    "finishing" + (f": {tail.splitlines()[-1]}" if tail else ""),
                    path=self.path,
                    hint="If it was killed for lack of memory, give the server more memory.",
                )
            return result
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child if it still runs and release its pipe and log file."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


def start_decoders(paths: ArtifactPaths) -> dict[str, DecoderProcess]:
    """Start a decoder process for each artifact file that exists, before anything else.

    Called by `recce-trio server` before it imports the web stack, so that the decode
    overlaps the server's own start-up. The loaders pick these up; anything not started
    here (a missing file, say) is handled by the loader as usual.
    """
    started: dict[str, DecoderProcess] = {}
    for env, kind in ARTIFACTS:
        if paths.single_env and env == "base":
            continue
        path = paths.path(env, kind)
        if path.is_file():
            started[artifact_key(env, kind)] = DecoderProcess(kind, path)
    return started


def decode_in_subprocess(
    kind: str,
    path: Path,
    *,
    between_frames: Callable[[], None] | None = None,
    stats: dict[str, int] | None = None,
) -> Manifest | Catalog:
    """Decode ``path`` in a child process; return the same records as a direct decode."""
    return DecoderProcess(kind, path).result(between_frames=between_frames, stats=stats)


def _receive(
    kind: str,
    path: Path,
    stream: IO[bytes],
    between_frames: Callable[[], None] | None,
    stats: dict[str, int] | None,
) -> Manifest | Catalog | None:
    artifact: Manifest | Catalog | None = None
    while True:
        head = _read_exact(stream, _HEAD.size)
        if head is None:
            return None
        size, tag_byte = _HEAD.unpack(head)
        payload = _read_exact(stream, size) if size else b""
        if payload is None:
            return None
        tag = chr(tag_byte)
        if tag == "E":
            info = _error.decode(payload)
            cls = getattr(errors, info["class"], errors.ArtifactDecodeError)
            if not (isinstance(cls, type) and issubclass(cls, errors.ArtifactError)):
                cls = errors.ArtifactDecodeError
            raise cls(info["message"], path=path, hint=info.get("hint", ""))
        if tag == "H":
            artifact = _header_decoders[kind].decode(payload)
        elif tag == "Z":
            if stats is not None and payload:
                stats.update(_stats.decode(payload))
            return artifact
        elif artifact is None:
            return None
        elif tag == "N":
            section, node_pairs = _node_chunk.decode(payload)
            getattr(artifact, section).update(node_pairs)
        elif tag == "T":
            section, table_pairs = _table_chunk.decode(payload)
            getattr(artifact, section).update(table_pairs)
        elif tag == "M":
            assert isinstance(artifact, Manifest)
            artifact.macros.update(_macro_chunk.decode(payload))
        if between_frames is not None:
            between_frames()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
