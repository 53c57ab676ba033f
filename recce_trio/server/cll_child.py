"""The whole-project column lineage map, computed in a child process.

Why a process: parsing SQL is pure Python work that holds the interpreter; in a thread of the
server it competes with the event loop (health probes waited up to half a second behind it).
The child (started by ``cll_process.CllMapProcess``) reads the artifact files itself, the
manifests without their tests (``core.cll.artifacts``), computes every node's lineage and the
modified nodes' change analysis, and streams the edges back in small frames, which the server
installs (``CllProject.install``).

It forks ``workers`` processes after reading the artifacts (copy-on-write); worker k takes
every k-th modified node (its change analysis, then its lineage, which reuses the parsed
query), then every k-th other node, those the server asks to hurry with first (``_Hurry``: a
request waits for them). Each worker writes frames to a pipe of its own; the child relays
whole frames to its stdout.

Wire format on the child's stdout: frames of ``<u32 length><1 byte tag><payload>``.
  H  pickle of the artifacts' ``core.cll.artifacts.fingerprint``: the server checks that the
     child read the artifacts it serves, else it kills the child and computes in-process
  E  msgpack of ``(entries, edges)``: ``entries`` a pickle of the cache entries the server
     needs (``[(key, value), ...]``: the change analyses, and the lineage of the nodes a
     catalog lacks; the rest reaches the server as edges, see ``_shipped``), ``edges`` the
     ``[(uid, NodeEdges), ...]`` of the nodes done (msgspec structs, decoded in C)
  C  (empty) every worker has finished the modified nodes' change analysis
  X  utf-8 text: the child failed (the server logs it and computes in-process)
  Z  pickle of ``{"peak_rss_kb", "read_s", "workers", "fork_s", "worker_cpu_s",
     "worker_end_s"}``: the end (when the workers started, from the child's start; each
     worker's CPU seconds, and when it ended, from their start)
The pickles are fine because both ends run this same code on the same interpreter; the child
is the server's own, never another program.

Leash: the child's address space is capped (RLIMIT_AS), it runs at a lower priority, and it
exits when its stdin (a pipe whose write end only the server holds) reaches end-of-file,
which happens however the server ends, ``kill -9`` included (``_watch_stdin``).
(``PR_SET_PDEATHSIG`` is not used for the child: it fires when the *thread* that started it
ends, and the gateway's worker threads come and go.) Workers die with the child
(``PR_SET_PDEATHSIG``, set from the child's main thread, which lives until the child exits).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gc
import os
import pickle
import resource
import selectors
import struct
import sys
import threading
import time
from typing import IO, Any, BinaryIO

import msgspec

from recce_trio.server import leash
from recce_trio.server.leash import EXIT_ORPHANED

_HEAD = struct.Struct(">IB")
BOOTSTRAP = (
    "import os, sys; os.nice(10); "
    "from recce_trio.server.cll_child import main; sys.exit(main(sys.argv[1:]))"
)
# The cache entries of ``project.model_lineage``: a worker keeps most to itself (``_shipped``).
LINEAGE_KEY = "cll"
_encode = msgspec.msgpack.Encoder().encode
# Nodes per frame: small enough that the server installs a frame in a few milliseconds.
NODES_PER_FRAME = 16
# Address-space cap: the artifacts take about four times their files' size in memory, and the
# analysis of one model a few megabytes more; the floor covers the interpreter and sqlglot.
MEMORY_FLOOR = 768 << 20
MEMORY_PER_FILE_BYTE = 8


def memory_limit(total_size: int) -> int:
    """The child's address-space cap, in bytes, for artifacts of ``total_size`` bytes."""
    return MEMORY_FLOOR + MEMORY_PER_FILE_BYTE * max(total_size, 0)


# ---- the child ----


@functools.cache
def edges_frame() -> msgspec.msgpack.Decoder[Any]:
    """The decoder of an ``E`` frame (made on first use: it imports the core's lineage)."""
    from recce_trio.core.cll.graph import NodeEdges

    return msgspec.msgpack.Decoder(tuple[bytes, list[tuple[str, NodeEdges]]])


def _write(out: BinaryIO, tag: bytes, payload: bytes = b"") -> None:
    out.write(_HEAD.pack(len(payload), tag[0]) + payload)
    out.flush()


def read_frame(stream: IO[bytes]) -> tuple[str, bytes] | None:
    head = stream.read(_HEAD.size)
    if len(head) < _HEAD.size:
        return None
    size, tag = _HEAD.unpack(head)
    payload = stream.read(size) if size else b""
    if len(payload) < size:
        return None
    return chr(tag), payload


def _others(spec: dict[str, Any]) -> list[str]:
    """The nodes after the modified ones; worker k takes every k-th."""
    done = set(spec["modified"])
    return [uid for uid in spec["ids"] if uid not in done]


def _worker(
    project: Any,
    outbox: list[Any],
    spec: dict[str, Any],
    k: int,
    out: BinaryIO,
    hurry: _Hurry,
    control: int,
) -> None:
    workers = spec["workers"]
    # A modified node's lineage right after its change analysis: the analysis parsed the
    # node's current SQL, and the lineage reads that parse (``breaking.change_result``).
    modified: list[str] = spec["modified"][k::workers]
    for start in range(0, len(modified), NODES_PER_FRAME):
        _send(out, project, modified[start : start + NODES_PER_FRAME], outbox, change=True)
    _write(out, b"C")
    queue = collections.deque(_others(spec)[k::workers])
    left = set(queue)
    pending = bytearray()
    # What the server asked for before the fork is in this copy of ``_Hurry`` (and may also
    # come through the pipe: a node is computed once all the same).
    queue.extendleft(reversed([u for u in hurry.pending if u in left]))
    while left:
        # The nodes a request waits for (``_Hurry``) go first.
        queue.extendleft(reversed([u for u in _hurried(control, pending) if u in left]))
        batch: list[str] = []
        while queue and len(batch) < NODES_PER_FRAME:
            uid = queue.popleft()
            if uid in left:
                left.discard(uid)
                batch.append(uid)
        _send(out, project, batch, outbox, change=False)


def _hurried(fd: int, pending: bytearray) -> list[str]:
    """The node ids the child main process passed on since the last call (non-blocking)."""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 1 << 16):
            pending += chunk
    out: list[str] = []
    while len(pending) >= 4:
        (size,) = struct.unpack_from(">I", pending)
        if len(pending) < 4 + size:
            break
        out.extend(msgspec.msgpack.decode(bytes(pending[4 : 4 + size]), type=list[str]))
        del pending[: 4 + size]
    return out


class _Hurry:
    """Node ids the server asks for first (a request waits for them), read from stdin by
    ``_watch_stdin`` and passed on to the worker that owns each; kept until the workers
    start."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[str] = []
        self.pipes: list[int] = []
        self.owner: dict[str, int] = {}

    def add(self, uids: list[str]) -> None:
        with self.lock:
            if self.pipes:
                self._forward(uids)
            else:
                self.pending.extend(uids)

    def start(self, pipes: list[int], owner: dict[str, int]) -> None:
        with self.lock:
            self.pipes, self.owner = pipes, owner
            self._forward(self.pending)
            self.pending = []

    def _forward(self, uids: list[str]) -> None:
        parts: list[list[str]] = [[] for _ in self.pipes]
        for uid in uids:
            k = self.owner.get(uid)
            if k is not None:
                parts[k].append(uid)
        for fd, part in zip(self.pipes, parts, strict=True):
            if part:
                payload = msgspec.msgpack.encode(part)
                with contextlib.suppress(OSError):  # that worker has ended
                    _write_all(fd, struct.pack(">I", len(payload)) + payload)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_message() -> bytes | None:
    """The next ``<u32 length><payload>`` message on stdin (unbuffered: what follows stays
    for the next call); None at end-of-file."""

    def read(n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = os.read(0, n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    head = read(4)
    return None if head is None else read(struct.unpack(">I", head)[0])


def _watch_stdin(hurry: _Hurry) -> None:
    """Read the server's requests to hurry (msgpack lists of ids) from stdin; exit when it
    reaches end-of-file (the lifeline: only the server holds its write end)."""

    def watch() -> None:
        with contextlib.suppress(OSError, msgspec.DecodeError):
            while (message := _read_message()) is not None:
                hurry.add(msgspec.msgpack.decode(message, type=list[str]))
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def _send(out: BinaryIO, project: Any, uids: list[str], outbox: list[Any], *, change: bool) -> None:
    edges = []
    for uid in uids:
        if change:
            project.change(uid)
        found = project.edges(uid)
        if found is not None:
            edges.append((uid, found))
    entries = [(key, value) for key, value in outbox if _shipped(project, key)]
    outbox.clear()
    payload = pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL) if entries else b""
    _write(out, b"E", _encode((payload, edges)))


def _shipped(project: Any, key: tuple[str, ...]) -> bool:
    """Whether the server needs a cache entry: a change analysis, or the lineage of a node
    that a catalog lacks (its SQL's columns stand in for the catalog's in its children's
    analyses, and their cache keys). Other nodes' lineage reaches it as their edges."""
    if key[0] != LINEAGE_KEY:
        return True
    uid = key[1]
    return not (project.current.columns(uid) and project.base.columns(uid))


def _relay(pipes: dict[int, int], out: BinaryIO) -> dict[int, float]:
    """Copy whole frames from the workers' pipes to ``out``; one ``C`` once all sent theirs.
    Returns when each pipe ended (``time.perf_counter()``), by worker pid."""
    ended: dict[int, float] = {}
    sel = selectors.DefaultSelector()
    buffers: dict[int, bytearray] = {}
    for fd in pipes:
        sel.register(fd, selectors.EVENT_READ)
        buffers[fd] = bytearray()
    waiting_c = len(pipes)
    while buffers:
        for key, _ in sel.select():
            fd = int(key.fd)
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                sel.unregister(fd)
                os.close(fd)
                del buffers[fd]
                ended[pipes[fd]] = time.perf_counter()
                continue
            buf = buffers[fd]
            buf += chunk
            while len(buf) >= _HEAD.size:
                size, tag = _HEAD.unpack_from(buf)
                end = _HEAD.size + size
                if len(buf) < end:
                    break
                if tag == ord("C"):
                    waiting_c -= 1
                    if waiting_c == 0:
                        out.write(bytes(buf[:end]))
                else:
                    out.write(bytes(buf[:end]))
                del buf[:end]
            out.flush()
    return ended


def _run(spec: dict[str, Any], out: BinaryIO, hurry: _Hurry) -> None:
    from recce_trio.core.cll.api import CllProject
    from recce_trio.core.cll.artifacts import fingerprint as lineage_fingerprint
    from recce_trio.core.cll.artifacts import read_lineage_artifacts
    from recce_trio.core.cll.cache import RecordingCache

    started = time.perf_counter()
    base_m, base_c, cur_m, cur_c = read_lineage_artifacts(spec["paths"])
    read_s = time.perf_counter() - started
    _write(out, b"H", pickle.dumps(lineage_fingerprint(base_m, base_c, cur_m, cur_c)))
    outbox: list[Any] = []
    project = CllProject(
        base_m, base_c, cur_m, cur_c, changes=spec["changes"], cache=RecordingCache(outbox)
    )
    project.graph()
    project.current.index  # noqa: B018 - built once, before the fork, shared by the workers
    project.base.index  # noqa: B018
    gc.collect()
    gc.freeze()  # the artifacts: out of every later collection, and of copy-on-write faults
    pipes: dict[int, int] = {}
    controls: list[int] = []
    workers = spec["workers"] = max(1, int(spec["workers"]))
    child = os.getpid()
    for k in range(workers):
        r, w = os.pipe()
        control, hurry_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            for fd in (r, hurry_w, *pipes, *controls):
                os.close(fd)
            os.set_blocking(control, False)
            leash.die_with_parent(child)
            code = 0
            try:
                with os.fdopen(w, "wb", buffering=1 << 16) as stream:
                    _worker(project, outbox, spec, k, stream, hurry, control)
            except BrokenPipeError:
                code = EXIT_ORPHANED
            except BaseException as exc:  # the parent logs it and computes in-process
                try:
                    os.write(2, f"column lineage worker failed: {exc!r}\n".encode())
                finally:
                    code = 1
            os._exit(code)
        os.close(w)
        os.close(control)
        pipes[r] = pid
        controls.append(hurry_w)
    hurry.start(controls, {uid: i % workers for i, uid in enumerate(_others(spec))})
    forked = time.perf_counter()
    ended = _relay(pipes, out)
    failed = 0
    cpu: list[float] = []
    for pid in pipes.values():
        _, status, usage = os.wait4(pid, 0)
        failed += status != 0
        cpu.append(round(usage.ru_utime + usage.ru_stime, 2))
    if failed:
        _write(out, b"X", f"{failed} of {workers} lineage workers failed".encode())
        return
    stats = {
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "read_s": read_s,
        "workers": workers,
        "fork_s": forked - started,
        "worker_cpu_s": cpu,
        "worker_end_s": [round(ended.get(pid, forked) - forked, 2) for pid in pipes.values()],
    }
    _write(out, b"Z", pickle.dumps(stats))


def main(argv: list[str]) -> int:
    """``MEMORY_LIMIT_BYTES``; reads a length-prefixed msgpack spec from stdin
    (``{paths, changes, ids, modified, workers}``), then node ids to hurry with, until
    end-of-file."""
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m recce_trio.server.cll_child MEMORY_LIMIT_BYTES", file=sys.stderr)
        return 2
    message = _read_message()
    if message is None:
        return EXIT_ORPHANED
    spec = msgspec.msgpack.decode(message)
    hurry = _Hurry()
    _watch_stdin(hurry)
    leash.cap_memory(int(argv[0]))
    out = sys.stdout.buffer
    try:
        _run(spec, out, hurry)
    except BrokenPipeError:
        os._exit(EXIT_ORPHANED)
    except BaseException as exc:
        _write(out, b"X", f"{type(exc).__name__}: {exc}"[:400].encode())
    os._exit(0)  # skip tearing down hundreds of megabytes of objects one by one
