"""``GET /api/runs/{id}/export``, served: the run's SQL runs again in the warehouse and the
file streams to the client as it is written, never whole in memory.

The export's blocking part (``write_export``: the statement, its rows read a chunk at a time,
the file written) runs in a worker thread of the gateway under the warehouse's limiter. It
appends each chunk of the file to an unnamed temporary file (a ``_Spool``), and the response
sends that file behind it, a chunk at a time, as it grows. So the warehouse is held for as
long as the query takes, not as long as the client takes to download; memory stays bounded
whatever the size (the file is on disk, up to the row limit); and the event loop only moves
chunks.

- At most ``MAX_CONCURRENT`` exports at once (from the request to the end of its download);
  one more is refused with 429 at once.
- The answer starts once the first chunk is written: an error before that (a template, the
  warehouse) is an ordinary JSON error; one after it cuts the download short (the client
  sees an incomplete transfer) and is logged.
- A client that disconnects, or the server stopping, cancels the export: its statement is
  interrupted on the connection, which stays usable for the next run. A download is cut
  after ``RESPONSE_TIMEOUT_S``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import IO, Any, cast

import trio
from quart import Response, current_app
from quart_trio import QuartTrio

from recce_trio.core import runs
from recce_trio.core.checks import Run
from recce_trio.core.runsql import export as rules
from recce_trio.core.runsql.params import normalise_params
from recce_trio.errors import (
    ExportQueryError,
    ExternalAccessBlockedError,
    NotReadyError,
    RequestError,
    RunCancelledError,
    WarehouseError,
)
from recce_trio.server import gateway
from recce_trio.server.cll_work import fast_switching
from recce_trio.server.runtime import ServerState
from recce_trio.server.warehouse import NONE
from recce_trio.warehouse.engine import CancelToken

log = logging.getLogger("recce_trio.server")

RESPONSE_TIMEOUT_S = 3600.0  # a download still going after an hour is cut (Quart's: 60 s)
# An answer whose body is never read (the client left between the headers and the body)
# gives its slot back this long after its file is written.
UNREAD_GRACE_S = 60.0
READ_BYTES = 256 * 1024  # what the response reads from the file at a time
_GATE_KEY = "recce_trio.exports"


@dataclass
class ExportGate:
    """How many exports run now (on the event loop only: no lock needed)."""

    running: int = 0


def export_gate() -> ExportGate:
    gate = current_app.extensions.get(_GATE_KEY)
    if gate is None:
        gate = current_app.extensions[_GATE_KEY] = ExportGate()
    return cast(ExportGate, gate)


class _Spool:
    """The export's file as it is written: the worker thread appends (``append``), the
    response reads behind it (``read``). Closed when both are done with it."""

    def __init__(self, gate: ExportGate) -> None:
        self._gate = gate
        self._token = trio.lowlevel.current_trio_token()
        self.file: IO[bytes] | None = None
        self.size = 0  # bytes the event loop knows are written
        self._read = 0  # bytes the response has sent
        self.finished = False
        self.error: BaseException | None = None
        self.rows: int | None = None
        self._wake = trio.Event()
        self._users = 2  # the writer's task and the response
        self.reader_started = trio.Event()  # the response's body is being sent
        self.reader_done = trio.Event()  # the response has ended (or will never start)

    def append(self, chunk: bytes) -> None:
        """In the worker thread: write a chunk, then tell the event loop (never waits)."""
        if self.file is None:
            # Closed by release(), once the writer and the response are both done with it.
            self.file = tempfile.TemporaryFile(prefix="recce-trio-export-")  # noqa: SIM115
        self.file.write(chunk)
        self.file.flush()
        self._token.run_sync_soon(self._grown, self.file.tell())

    def _grown(self, size: int) -> None:
        self.size = size
        self._wake.set()
        self._wake = trio.Event()

    def finish(self, error: BaseException | None, rows: int | None) -> None:
        self.error, self.rows, self.finished = error, rows, True
        self._grown(self.size)

    async def started(self) -> None:
        """Return once the first bytes are written, or the writer has finished."""
        while self.size == 0 and not self.finished:
            await self._wake.wait()

    async def read(self) -> bytes:
        """The file's next bytes as they are written; ``b""`` once the writer has finished
        and all has been read (or the response was given up)."""
        self.reader_started.set()
        while not self.reader_done.is_set():
            if self._read < self.size and self.file is not None:
                fd, size = self.file.fileno(), min(READ_BYTES, self.size - self._read)
                data: bytes = await gateway.run(gateway.FILES, os.pread, fd, size, self._read)
                self._read += len(data)
                return data
            if self.finished:
                break
            await self._wake.wait()
        return b""

    async def release(self) -> None:
        self._users -= 1
        if self._users == 0 and self.file is not None:
            with trio.CancelScope(shield=True):
                await gateway.run(gateway.FILES, self.file.close)

    async def reader_release(self) -> None:
        """The response is done with the file (once; later calls do nothing): its export
        slot is given back."""
        if self.reader_done.is_set():
            return
        self.reader_started.set()  # settled: the writer's task waits no longer
        self.reader_done.set()
        self._gate.running -= 1
        await self.release()


def _export_layer() -> tuple[ModuleType, ModuleType]:
    """The warehouse layer, imported on the first export in a worker thread."""
    from recce_trio.warehouse import configured, export

    return configured, export


def _write(
    exporter: ModuleType,
    ctx: Any,
    run_type: str,
    params: Mapping[str, Any],
    fmt: str,
    spool: _Spool,
) -> int:
    rows: int = exporter.write_export(ctx, run_type, params, fmt, spool.append)
    return rows


async def export_response(
    state: ServerState, run: Run, fmt: str, *, head: bool = False
) -> Response:
    """Start exporting ``run`` (checked exportable) as ``fmt``; the streaming answer once its
    first chunk is written, or the error that stopped it before that. ``head`` (a HEAD
    request: a link checker, a browser's prefetch) answers the headers only, and runs
    nothing in the warehouse."""
    await state.warehouse.resolved.wait()
    kind = runs.check_run_type(run.type, warehouse=state.warehouse.state != NONE)
    params = normalise_params(kind, dict(run.params or {}))
    if head:
        return Response(b"", 200, headers=_headers(kind, fmt))
    gate = export_gate()
    if gate.running >= rules.MAX_CONCURRENT:
        raise RequestError(
            f"{gate.running} exports are running, the most this server runs at once. "
            "Try again when one of them has finished.",
            status=429,
        )
    gate.running += 1
    token = CancelToken()
    spool = _Spool(gate)
    try:
        configured, exporter = await gateway.run(gateway.FILES, _export_layer)
        engine, limiter = await state.warehouse.ready_engine()
        ctx = configured.run_context(
            state.review.artifacts,
            state.review.diff,
            engine,
            state.warehouse.target,
            cancel=token,
            sources=state.session.sources,
        )
    except Exception as exc:
        gate.running -= 1
        raise _public(exc) from None
    except BaseException:
        gate.running -= 1
        raise

    async def produce() -> None:
        error: BaseException | None = None
        rows = None
        try:
            # The writer thread turns rows into text in short C calls that hold the
            # interpreter, releasing it in between (reads, writes): with the default 5 ms
            # switch interval the event loop could wait many of them out.
            with fast_switching():
                rows = await gateway.run_limited(
                    limiter,
                    _write,
                    exporter,
                    ctx,
                    kind,
                    params,
                    fmt,
                    spool,
                    thread_name=f"recce-trio export {kind}",
                )
        except BaseException as exc:
            error = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            token.cancel()  # whatever ended it, nothing keeps running in the warehouse
            spool.finish(error, rows)
            await spool.release()
        with trio.move_on_after(UNREAD_GRACE_S):
            await spool.reader_started.wait()
        if not spool.reader_started.is_set():
            await spool.reader_release()  # a body never read: its slot comes back

    async def body() -> AsyncIterator[bytes]:
        try:
            while chunk := await spool.read():
                yield chunk
            if spool.error is not None:
                log.error(
                    "export of run %s as %s stopped part way: %s",
                    run.run_id,
                    fmt,
                    _public(spool.error),
                )
                raise ExportQueryError("The export stopped part way.")
            log.info("exported run %s (%s) as %s: %s rows", run.run_id, kind, fmt, spool.rows)
        finally:
            token.cancel()  # the client went away: interrupt the statement if it still runs
            await spool.reader_release()

    cast(QuartTrio, current_app).nursery.start_soon(produce)
    try:
        await spool.started()
    except BaseException:
        token.cancel()  # the client went away while the statement ran
        await spool.reader_release()
        raise
    if spool.size == 0 and spool.error is not None:
        await spool.reader_release()
        raise _public(spool.error)

    response = Response(body(), 200, headers=_headers(kind, fmt))
    response.timeout = RESPONSE_TIMEOUT_S
    return response


def _headers(kind: str, fmt: str) -> dict[str, str]:
    name = rules.filename(kind, fmt, dt.date.today())
    return {
        "Content-Type": rules.MEDIA_TYPES[fmt],
        "Content-Disposition": rules.content_disposition(name),
        "Cache-Control": "no-store",
    }


def _public(exc: BaseException) -> BaseException:
    """The error a client is told for an export that failed before its first byte."""
    if isinstance(exc, ExternalAccessBlockedError):
        return RequestError(str(exc))
    if isinstance(exc, WarehouseError):
        return ExportQueryError(f"Export query failed: {exc}")
    if isinstance(exc, RunCancelledError):
        return NotReadyError("Server is shutting down.")
    return exc
