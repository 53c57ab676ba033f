"""Decode one artifact in a child process and stream its records back in small frames.

Why a process: a C JSON decoder holds the GIL for a whole file, so decoding a 100 MB
manifest in a thread of the server stalls its event loop for about half a second. The child
does that decode on its own interpreter (and the machine's other core); the parent only
decodes compact msgpack frames of a few hundred records each, between which its event loop
runs. See docs/startup.md for the measurements behind this choice.

Wire format on the child's stdout: frames of ``<u32 length><1 byte tag><msgpack payload>``.
  H  the artifact with its record dicts emptied (metadata, schema_version)
  N  (section, [(key, Node), ...], shares)  manifest sections: nodes, sources, exposures, ...;
     shares: each lineage record's share of its side (``side_records.lineage_shares``)
  M  [(key, Macro), ...]
  T  (section, [(key, CatalogTable), ...])  catalog sections: nodes, sources
  E  {"class", "message", "hint"}    a RecceTrioError (or other failure) while decoding
  Z  {"peak_rss_kb", "memory_limit_kb"} end of artifact, with the child's peak memory

A decoder is kept on a short leash: it reads regular files only (``map_artifact``), its
address space is capped in proportion to the file's size (``memory_limit``), and it dies with
its parent: ``PR_SET_PDEATHSIG`` on Linux, and everywhere a watch on its stdin, a pipe whose
other end only the parent holds, which reaches end-of-file when the parent goes.
"""

from __future__ import annotations

import gc
import os
import resource
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from queue import SimpleQueue
from typing import IO, TYPE_CHECKING, BinaryIO, cast

import msgspec

from recce_trio import errors
from recce_trio.core.artifacts.files import ARTIFACTS, ArtifactPaths, artifact_key
from recce_trio.core.artifacts.records import Catalog, CatalogTable, Macro, Manifest, Node
from recce_trio.server import leash

if TYPE_CHECKING:  # the parent's side only: a decoder process does without these imports
    import subprocess

    from recce_trio.core.side_records import Share
CHUNK = 128
# A catalog up to this size is decoded by the server's loader thread itself, a few tables at
# a time (``read_catalog_in_pieces``): for the 13 MB catalog of a 5,000-model project that is
# ~0.1 s of CPU, less than a decoder process costs before it has decoded anything (its
# interpreter and imports) plus decoding its frames again here. A larger catalog gets a
# decoder process on its leash, as a manifest always does.
IN_SERVER_CATALOG_MAX = 64 << 20
# The child lowers its priority before its imports: the server's event loop must answer health
# probes at once even when decoders outnumber the cores. It never collects garbage (a
# short-lived process), not even while it imports.
_BOOTSTRAP = (
    "import gc; gc.disable(); import os, sys; os.nice(10); "
    "from recce_trio.server.decoders import main; sys.exit(main(sys.argv[1:]))"
)
_HEAD = struct.Struct(">IB")

# A decoder's address space is capped (RLIMIT_AS) at a floor plus a multiple of the file's
# size. Measured with bench/decoder_memory.py on a generated 5,000-model project
# (bench/make_artifacts.py --models 5000): the 98 MiB manifest decodes in no less than
# 155 MiB (peak RSS 132 MiB), its 12.5 MiB catalog in 84 MiB, a 3.9 MiB manifest in 56 MiB,
# whether the parent reads the frames at once or only after 4 s. The cap leaves 5.8 times
# that for the big manifest (904 MiB), more for smaller files.
MEMORY_FLOOR = 512 << 20
MEMORY_PER_FILE_BYTE = 4


def decoded_in_server(kind: str, path: Path) -> bool:
    """Whether the server decodes this artifact itself (a small catalog), not a process."""
    if kind != "catalog":
        return False
    try:
        return path.stat().st_size <= IN_SERVER_CATALOG_MAX
    except OSError:  # the loader names the problem
        return False


def memory_limit(size: int) -> int:
    """The address-space cap, in bytes, of a decoder reading a file of ``size`` bytes."""
    return MEMORY_FLOOR + MEMORY_PER_FILE_BYTE * max(size, 0)


def _write(out: BinaryIO, tag: bytes, payload: bytes) -> None:
    out.write(_HEAD.pack(len(payload), tag[0]))
    out.write(payload)


def _frames(kind: str, path: Path) -> Iterator[tuple[bytes, bytes]]:
    """The artifact as (tag, payload) frames; an error becomes an ``E`` frame."""
    from recce_trio.core.artifacts.catalog import TableChunk, iter_catalog
    from recce_trio.core.artifacts.identify import map_artifact
    from recce_trio.core.artifacts.manifest import Chunk, iter_manifest
    from recce_trio.core.side_records import lineage_shares

    enc = msgspec.msgpack.Encoder()
    try:
        if kind == "manifest":
            # Record by record, so the parent can decode the first frames while the rest of
            # the file is still being decoded here.
            pieces = iter_manifest(
                map_artifact(path, kind="manifest"),
                path=path,
                chunk=CHUNK,
                compact_tests=True,
            )
            yield b"H", enc.encode(next(pieces))
            for section, records in cast(Iterator[Chunk], pieces):
                if section == "macros":
                    yield b"M", enc.encode(records)
                    continue
                # Each lineage record's share of the review's side, worked out here, on the
                # decoder's core, rather than in the server's loader thread.
                shares = lineage_shares(section, records)
                yield b"N", enc.encode((section, records, shares))
        else:
            tables = iter_catalog(map_artifact(path, kind="catalog"), path=path, chunk=CHUNK)
            yield b"H", enc.encode(next(tables))
            for piece in cast(Iterator[TableChunk], tables):
                yield b"T", enc.encode(piece)
    except errors.RecceTrioError as exc:
        message = {"class": type(exc).__name__, "message": exc.message, "hint": exc.hint}
        yield b"E", enc.encode(message)
        return
    except MemoryError:
        limit_mb = resource.getrlimit(resource.RLIMIT_AS)[0] >> 20
        message = {
            "class": "ArtifactReadError",
            "message": f"decoding {path} needed more than the {limit_mb} MB a decoder may use.",
            "hint": (
                f"A decoder may use {MEMORY_FLOOR >> 20} MB plus {MEMORY_PER_FILE_BYTE} times "
                "the file's size, far more than a dbt artifact needs: check that the file is "
                "the one dbt wrote."
            ),
        }
        yield b"E", enc.encode(message)
        return
    except Exception as exc:  # an unexpected decoder failure must still reach the parent
        message = {"class": "ArtifactDecodeError", "message": f"{path}: {exc}", "hint": ""}
        yield b"E", enc.encode(message)
        return
    peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    limit_kb = -1 if limit == resource.RLIM_INFINITY else limit >> 10
    yield b"Z", enc.encode({"peak_rss_kb": peak_rss_kb, "memory_limit_kb": limit_kb})


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
    """``manifest|catalog PATH PARENT_PID MEMORY_LIMIT_BYTES``: decode, write frames, exit."""
    if (
        len(argv) != 4
        or argv[0] not in ("manifest", "catalog")
        or not (argv[2].isdigit() and argv[3].isdigit())
    ):
        print(
            "usage: python -m recce_trio.server.decoders manifest|catalog PATH PARENT_PID "
            "MEMORY_LIMIT_BYTES",
            file=sys.stderr,
        )
        return 2
    leash.die_with_parent(int(argv[2]))
    leash.watch_stdin()  # only the parent holds our stdin's write end, and never writes to it
    leash.cap_memory(int(argv[3]))
    gc.disable()  # a short-lived process: collections would only cost time
    _stream(argv[0], Path(argv[1]), sys.stdout.buffer)
    # Skip the interpreter's teardown: freeing a hundred megabytes of objects one by one
    # would keep the parent waiting for nothing.
    os._exit(0)


# Called with each manifest section's records as they arrive: (section, [(key, Node), ...],
# shares) (see the N frame above).
OnRecords = Callable[[str, list[tuple[str, Node]], "Sequence[Share] | None"], None]
_header_decoders: dict[
    str, msgspec.msgpack.Decoder[Manifest] | msgspec.msgpack.Decoder[Catalog]
] = {
    "manifest": msgspec.msgpack.Decoder(Manifest),
    "catalog": msgspec.msgpack.Decoder(Catalog),
}
# A lineage record's share as the N frame carries it (``side_records.Share``; the key is
# always a digest there, or None for kinds without one).
_WireShare = tuple[
    int,
    tuple[bytes, bytes, bytes, str | None, str | None, str | None],
    bytes | None,
    bool,
    list[str] | None,
]
_node_chunk = msgspec.msgpack.Decoder(tuple[str, list[tuple[str, Node]], list[_WireShare]])
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

    def __init__(self, kind: str, path: Path, *, memory_limit_bytes: int | None = None) -> None:
        """``memory_limit_bytes`` caps the child's address space; by default
        ``memory_limit`` of the file's size.

        On Linux the child dies when the *thread* that starts it ends (``PR_SET_PDEATHSIG``
        follows threads): start it from a thread that outlives the decode, as the loaders do.
        """
        import subprocess
        import tempfile

        self.kind = kind
        self.path = path
        if memory_limit_bytes is None:
            try:
                memory_limit_bytes = memory_limit(path.stat().st_size)
            except OSError:  # the child names the problem
                memory_limit_bytes = memory_limit(0)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        argv = [kind, str(path), str(os.getpid()), str(memory_limit_bytes)]
        self.process: subprocess.Popen[bytes] = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, *argv],
            stdin=subprocess.PIPE,  # the child's lifeline: see leash.watch_stdin
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            # One malloc arena: glibc otherwise reserves 64 MB of address space for each
            # thread that allocates (the decoder has three), which the cap would count.
            env={**os.environ, "MALLOC_ARENA_MAX": "1"},
        )

    def result(
        self,
        *,
        between_frames: Callable[[], None] | None = None,
        stats: dict[str, int] | None = None,
        on_records: OnRecords | None = None,
    ) -> Manifest | Catalog:
        """Read the child's frames into records; re-raise its error as the same class.

        ``between_frames`` runs after every frame (use it to notice cancellation);
        ``stats`` receives the child's ``peak_rss_kb``; ``on_records(section, pairs, shares)``
        is called with each manifest section's records as they arrive.
        """
        try:
            assert self.process.stdout is not None
            result = _receive(
                self.kind, self.path, self.process.stdout, between_frames, stats, on_records
            )
            if result is None:
                code = self.process.wait()
                if code == -signal.SIGBUS:  # it maps the file: cut short while being read
                    raise errors.ArtifactReadError(
                        f"{self.path} was cut short while it was being read.",
                        path=self.path,
                        hint="Something rewrote it while it was read (a dbt run?): load it "
                        "again once the file is complete.",
                    )
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
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        self._stderr.close()


def start_decoders(paths: ArtifactPaths) -> dict[str, DecoderProcess]:
    """Start a decoder process for each artifact file that exists (but a small catalog, which
    the server decodes itself: ``decoded_in_server``), before anything else.

    Called by `recce-trio server` before it imports the web stack, so that the decode
    overlaps the server's own start-up. The loaders pick these up; anything not started
    here (a missing file, say) is handled by the loader as usual.
    """
    started: dict[str, DecoderProcess] = {}
    for env, kind in ARTIFACTS:
        if paths.single_env and env == "base":
            continue
        path = paths.path(env, kind)
        if path.is_file() and not decoded_in_server(kind, path):
            started[artifact_key(env, kind)] = DecoderProcess(kind, path)
    return started


def _receive(
    kind: str,
    path: Path,
    stream: IO[bytes],
    between_frames: Callable[[], None] | None,
    stats: dict[str, int] | None,
    on_records: OnRecords | None = None,
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
            section, node_pairs, shares = _node_chunk.decode(payload)
            getattr(artifact, section).update(node_pairs)
            if on_records is not None:
                on_records(section, node_pairs, shares)
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
