"""A row-limited DataFrame (frames.py) put together a block of rows and a column at a time,
holding its values as JSON text rather than as Python objects.

A keyed diff's first 2,000 rows come range by range, and a wide table's a group of columns
at a time (warehouse/keyed_wide.py). ``frames.dataframe`` takes every row at once: 2,000 rows
of 200 columns are 400,000 Python values, some 25 MB, then as many again once serialised.
``FrameBuilder`` serialises each column of each block as it comes and keeps only the rows'
JSON text (``msgspec``), which grows a column at a time: some 4 MB for those rows. The
frame's rows are then that text, one ``msgspec.Raw`` per row (``packed``: what a server keeps
and sends, encoded as the same bytes), or decoded back into lists.

A column's type is inferred from all its values (frames.column_type); a block is serialised
under the type its column's values so far vote for (``column_kinds``: votes taken block by
block add up to the votes of all the values at once). If a later block changes a column's
type after values were serialised under the old one (a column of mixed Python types, or
integers beyond 64 bits in a later block only), the text kept is not what ``dataframe`` would
give: ``frame()`` then returns None, and the caller builds the frame again, whole
(``RowsSink``). The result is the same as ``dataframe``'s for the same rows, in every case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from recce_trio.core.runresults.frames import (
    column_kinds,
    dataframe,
    serialise_column,
    type_of_kinds,
)

_encode = msgspec.json.Encoder().encode


class RowSink(Protocol):
    """Where a row-limited diff puts its rows: blocks in order, each given whole
    (``add_rows``) or a column at a time (``begin``, ``add_column`` for every position,
    ``end``). At most ``limit`` rows are kept; ``seen`` counts all that came."""

    limit: int
    seen: int

    def begin(self, columns: Sequence[str], rows: int) -> None: ...

    def add_column(self, position: int, values: Sequence[Any]) -> None: ...

    def end(self) -> None: ...

    def add_rows(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None: ...

    def frame(self) -> dict[str, Any] | None: ...


class _Blocks:
    """What both sinks share: the columns, the counts, and the current block."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen = 0
        self.kept = 0
        self.columns: list[str] = []
        self._keep = 0  # rows of the current block kept
        self._given: set[int] = set()

    def begin(self, columns: Sequence[str], rows: int) -> None:
        if self.columns and list(columns) != self.columns:
            raise ValueError("every block of a frame has the same columns")
        self.columns = list(columns)
        self._keep = max(0, min(rows, self.limit - self.kept))
        self.seen += rows
        self._given = set()

    def add_column(self, position: int, values: Sequence[Any]) -> None:
        if position in self._given or not 0 <= position < len(self.columns):
            raise ValueError(f"column {position} given twice or out of range")
        self._given.add(position)
        self._take(position, values[: self._keep])

    def end(self) -> None:
        if len(self._given) != len(self.columns):
            raise ValueError("a block lacks some of its columns")
        self.kept += self._keep

    def add_rows(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.begin(columns, len(rows))
        kept = rows[: self._keep]
        for i in range(len(self.columns)):
            self.add_column(i, [row[i] for row in kept])
        self.end()

    def _take(self, position: int, values: Sequence[Any]) -> None:
        raise NotImplementedError


class FrameBuilder(_Blocks):
    """The frame of the first ``limit`` rows, each row kept as its JSON text: a block's rows
    grow a column at a time, in column order (a column given early waits, as JSON text, for
    the ones before it), and are closed when the block ends."""

    def __init__(self, limit: int, *, packed: bool = False) -> None:
        super().__init__(limit)
        self.packed = packed
        self._kinds: list[set[str]] = []
        self._used: list[set[str]] = []  # types values were serialised under
        self._rows: list[Any] = []
        self._open: list[bytearray] = []  # the current block's rows, so far
        self._next = 0  # the next column in order
        self._waiting: dict[int, list[bytes]] = {}

    def begin(self, columns: Sequence[str], rows: int) -> None:
        super().begin(columns, rows)
        while len(self._kinds) < len(self.columns):
            self._kinds.append(set())
            self._used.append(set())
        self._open = [bytearray(b"[") for _ in range(self._keep)]
        self._next = 0
        self._waiting = {}

    def _take(self, position: int, values: Sequence[Any]) -> None:
        kinds = self._kinds[position]
        kinds |= column_kinds(values)
        type_ = type_of_kinds(kinds)
        serialised = serialise_column(list(values), type_)
        if any(v is not None for v in serialised):
            self._used[position].add(type_)
        self._waiting[position] = [b"null" if v is None else _encode(v) for v in serialised]
        del serialised
        while self._next in self._waiting:
            cells = self._waiting.pop(self._next)
            comma = b"," if self._next else b""
            for row, cell in zip(self._open, cells, strict=True):
                row += comma
                row += cell
            self._next += 1

    def end(self) -> None:
        super().end()
        for row in self._open:
            row += b"]"
            self._rows.append(msgspec.Raw(bytes(row)) if self.packed else msgspec.json.decode(row))
            row.clear()
        self._open = []

    def frame(self) -> dict[str, Any] | None:
        """The frame (``more`` when more than ``limit`` rows came), or None when a block
        was serialised under a type its column no longer has (build it whole then)."""
        types = [type_of_kinds(k) for k in self._kinds]
        if any(used - {t} for used, t in zip(self._used, types, strict=True)):
            return None
        rows, self._rows = self._rows, []
        return {
            "columns": [
                {"key": name, "name": name, "type": t}
                for name, t in zip(self.columns, types, strict=True)
            ],
            "data": rows,
            "limit": self.limit,
            "more": self.seen > self.limit,
            "total_row_count": None,
        }


class RowsSink(_Blocks):
    """The same frame from every row at once (``frames.dataframe``): the rows held as Python
    values. For a frame whose column types changed between blocks (``FrameBuilder``)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self._rows: list[list[Any]] = []
        self._block: list[list[Any]] = []

    def begin(self, columns: Sequence[str], rows: int) -> None:
        super().begin(columns, rows)
        self._block = [[None] * len(self.columns) for _ in range(self._keep)]

    def _take(self, position: int, values: Sequence[Any]) -> None:
        for row, value in zip(self._block, values, strict=True):
            row[position] = value

    def end(self) -> None:
        super().end()
        self._rows += self._block
        self._block = []

    @property
    def rows(self) -> list[list[Any]]:
        """The rows kept so far, as the warehouse gave them."""
        return self._rows

    def frame(self) -> dict[str, Any] | None:
        more = self.seen > self.limit
        rows, self._rows = self._rows, []
        return dataframe(self.columns, rows, limit=self.limit, more=more, consume=True)
