"""Writing exported rows as CSV, TSV or xlsx, a chunk of bytes at a time.

Each writer gets rows in order and hands encoded bytes to ``emit`` as they pile up, so a
file of any length passes through a bounded buffer. CSV and TSV go out as they are written;
an xlsx file is a zip archive whose parts are only known at the end, so XlsxWriter writes it
to a temporary folder (``constant_memory``: one row in memory at a time) and the finished
file is then read out in chunks.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from recce_trio.core.runsql.export import cell_text
from recce_trio.errors import RequestError

Emit = Callable[[bytes], None]
CHUNK_BYTES = 256 * 1024  # what one emit carries, about
WRITE_ROWS = 250  # rows per call of the csv writer
XLSX_MAX_TEXT = 32_767  # Excel's limit on the characters of a cell
_EXACT_DIGITS = 15  # a double holds a decimal of up to 15 significant digits exactly


class RowWriter(Protocol):
    def header(self, columns: Sequence[str]) -> None: ...

    def rows(self, rows: Sequence[Sequence[Any]]) -> None: ...

    def close(self) -> None:
        """Emit whatever is left; the file is complete after this."""
        ...

    def discard(self) -> None:
        """Drop what was written (the export failed or was cancelled)."""
        ...


def open_writer(fmt: str, emit: Emit) -> RowWriter:
    if fmt == "xlsx":
        return XlsxRows(emit)
    return DelimitedRows(emit, delimiter="\t" if fmt == "tsv" else ",")


class DelimitedRows:
    """CSV (``,``) or TSV (``\\t``) in UTF-8 with ``\\r\\n`` line ends, quoted where a field
    holds the delimiter, a quote or a line break (Python's ``csv`` dialect ``excel``)."""

    def __init__(self, emit: Emit, *, delimiter: str) -> None:
        self._emit = emit
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=delimiter)
        # Per column: True once its values are known to be int or str (NULL aside), which the
        # csv writer writes as cell_text would (None as an empty field); False once known
        # otherwise; None while only NULLs have been seen.
        self._plain: list[bool | None] = []

    def header(self, columns: Sequence[str]) -> None:
        self._writer.writerow(columns)
        self._plain = [None] * len(columns)

    def rows(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        plain = self._plain
        if len(plain) != len(rows[0]):
            plain[:] = [None] * len(rows[0])
        columns = list(zip(*rows, strict=True))
        for i, known in enumerate(plain):
            if known is None:
                kind = next((type(v) for v in columns[i] if v is not None), None)
                plain[i] = None if kind is None else kind in (int, str)
        if not all(plain):
            converted = [
                col if known else list(map(cell_text, col))
                for col, known in zip(columns, plain, strict=True)
            ]
            rows = list(zip(*converted, strict=True))
        # Every value as the csv writer writes it, at C speed; a few hundred rows per call, as
        # the call holds the interpreter throughout (the event loop would wait it out).
        for start in range(0, len(rows), WRITE_ROWS):
            self._writer.writerows(rows[start : start + WRITE_ROWS])
        if self._buffer.tell() >= CHUNK_BYTES:
            self._flush()

    def _flush(self) -> None:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        if text:
            self._emit(text.encode("utf-8"))

    def close(self) -> None:
        self._flush()

    def discard(self) -> None:
        self._buffer = io.StringIO()


class XlsxRows:
    """One worksheet: the header row in bold, then the rows. Numbers a spreadsheet holds
    exactly, booleans, dates and timestamps (in UTC) are typed cells; everything else is
    text, always as text (never a formula or a link)."""

    def __init__(self, emit: Emit) -> None:
        try:
            import xlsxwriter
        except ImportError:
            raise RequestError(
                "An xlsx export needs the Python package XlsxWriter, which is not installed.",
                hint="Install it (pip install xlsxwriter), or export as CSV or TSV.",
            ) from None
        self._emit = emit
        self._folder = tempfile.TemporaryDirectory(prefix="recce-trio-export-")
        self._path = os.path.join(self._folder.name, "export.xlsx")
        self._book = xlsxwriter.Workbook(
            self._path,
            {
                "constant_memory": True,
                "tmpdir": self._folder.name,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self._sheet = self._book.add_worksheet("Export")
        self._bold = self._book.add_format({"bold": True})
        self._date = self._book.add_format({"num_format": "yyyy-mm-dd"})
        self._datetime = self._book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self._time = self._book.add_format({"num_format": "hh:mm:ss"})
        self._row = 0

    def header(self, columns: Sequence[str]) -> None:
        for col, name in enumerate(columns):
            self._sheet.write_string(0, col, name[:XLSX_MAX_TEXT], self._bold)
        self._row = 1

    def rows(self, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            for col, value in enumerate(row):
                if value is not None:
                    self._cell(self._row, col, value)
            self._row += 1

    def _cell(self, row: int, col: int, value: Any) -> None:
        sheet = self._sheet
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif _exact_number(value):
            sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value)
        elif isinstance(value, dt.datetime) and value.year >= 1900:
            if value.tzinfo is not None and value.utcoffset() is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)  # Excel has no zones
            sheet.write_datetime(row, col, value, self._datetime)
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            if value.year >= 1900:
                sheet.write_datetime(row, col, value, self._date)
            else:
                sheet.write_string(row, col, value.isoformat())
        elif isinstance(value, dt.time) and value.tzinfo is None:
            sheet.write_datetime(row, col, value, self._time)
        else:
            sheet.write_string(row, col, cell_text(value)[:XLSX_MAX_TEXT])

    def close(self) -> None:
        try:
            self._book.close()
            with open(self._path, "rb") as f:
                while chunk := f.read(CHUNK_BYTES):
                    self._emit(chunk)
        finally:
            self._folder.cleanup()

    def discard(self) -> None:
        # The worksheet's row file is open until the workbook is assembled: close it (an
        # internal of XlsxWriter's constant_memory mode) rather than assemble a dropped file.
        with contextlib.suppress(Exception):
            self._sheet._opt_close()
        self._folder.cleanup()


def _exact_number(value: Any) -> bool:
    """Whether a spreadsheet number (a double) holds the value exactly; others are text."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) < 2**53
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite() and len(value.as_tuple().digits) <= _EXACT_DIGITS
    return False
