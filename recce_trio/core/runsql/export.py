"""Exporting a query run's rows as a file (``GET /api/runs/{id}/export``), the pure part: which
runs can be exported, the statements to run (with the row limit pushed down to the
warehouse), the file's name and type, and how each value is written as text.

Recce's rules: the SQL of a ``query``, ``query_base`` or ``query_diff`` run is run again with
``LIMIT 500000`` (``100000`` for xlsx); a ``query_diff`` that used ``primary_keys`` is refused
(its result holds only the rows that differ); a run whose recorded total is over the limit is
refused up front. A ``query_diff`` file has the base side's columns (``base__<name>``) then the
current side's (``current__<name>``), row *i* of each side on line *i*.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from recce_trio.errors import RequestError

if TYPE_CHECKING:
    from recce_trio.core.runsql.dialect import SqlDialect

ROW_LIMIT = 500_000  # rows of a CSV or TSV file (of each side of a query_diff)
XLSX_ROW_LIMIT = 100_000  # rows of an xlsx file
MAX_CONCURRENT = 2  # exports at once per server; one more is refused with 429
EXPORTABLE_TYPES = ("query", "query_base", "query_diff")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(MEDIA_TYPES)


class ExportSide(NamedTuple):
    """One statement of an export: the template, the environment it renders in, and the
    prefix its columns get in the file (empty for a single query)."""

    template: str
    env_name: str
    prefix: str


def check_format(fmt: str | None) -> str:
    """The format asked for (``csv`` when none); 400 for any other."""
    fmt = "csv" if fmt is None else fmt
    if fmt not in MEDIA_TYPES:
        raise RequestError(f"Unsupported format: {fmt!r}. Use one of: {', '.join(FORMATS)}.")
    return fmt


def row_limit(fmt: str) -> int:
    return XLSX_ROW_LIMIT if fmt == "xlsx" else ROW_LIMIT


def check_exportable(run_type: str, params: Mapping[str, Any], result: Any, fmt: str) -> None:
    """400 with the reason when the run cannot be exported in ``fmt``."""
    if run_type not in EXPORTABLE_TYPES:
        raise RequestError(
            f"A {run_type} run cannot be exported: only query, query_base and query_diff "
            "runs can (their SQL is run again in the warehouse and every row is written)."
        )
    if run_type == "query_diff" and params.get("primary_keys"):
        raise RequestError(
            "A query_diff run with primary_keys cannot be exported: its result holds only the "
            "rows that differ, computed in the warehouse, while an export runs each side's "
            "query in full. Run the query diff without primary keys, or export a query run "
            "of each side."
        )
    total = recorded_total(result)
    limit = row_limit(fmt)
    if total is not None and total > limit:
        if fmt == "xlsx" and total <= ROW_LIMIT:
            raise RequestError(
                f"The query returned {total:,} rows, and an xlsx export holds at most "
                f"{XLSX_ROW_LIMIT:,}. Export it as CSV or TSV (up to {ROW_LIMIT:,} rows)."
            )
        raise RequestError(
            f"The query returned {total:,} rows, more than the {limit:,} an export holds. "
            "Narrow the query (a WHERE clause or a LIMIT) and run it again."
        )


def recorded_total(result: Any) -> int | None:
    """The run's total row count as its result recorded it (the larger side of a diff)."""
    if not isinstance(result, Mapping):
        return None
    frames = [result, result.get("base"), result.get("current")]
    totals = [
        int(f["total_row_count"])
        for f in frames
        if isinstance(f, Mapping)
        and isinstance(f.get("total_row_count"), int | float)
        and not isinstance(f.get("total_row_count"), bool)
    ]
    return max(totals) if totals else None


def export_sides(run_type: str, params: Mapping[str, Any]) -> list[ExportSide]:
    """The statements an export runs, in the order their columns appear in the file.

    A ``query_diff`` preview (``current_model``) compares the editor's SQL with the model as
    it is in the *current* environment, as the run did (Recce's export runs the base side in
    the base environment instead, which is not what the run showed).
    """
    sql = str(params["sql_template"])
    if run_type == "query":
        return [ExportSide(sql, "current", "")]
    if run_type == "query_base":
        return [ExportSide(sql, "base", "")]
    model = params.get("current_model")
    if model:
        base = ExportSide(f'select * from {{{{ ref("{model}") }}}}', "current", "base__")
    else:
        base = ExportSide(str(params.get("base_sql_template") or sql), "base", "base__")
    return [base, ExportSide(sql, "current", "current__")]


def limited_sql(dialect: SqlDialect, sql: str, limit: int) -> str:
    """The query wrapped so that the warehouse returns at most ``limit`` rows (the limit is
    pushed down: the warehouse stops there, whatever the query's own size)."""
    from recce_trio.core.runsql.queries import strip_statement

    return dialect.limit(f"SELECT * FROM ({strip_statement(sql)}) AS _export_limited", limit)


def filename(run_type: str, fmt: str, today: dt.date) -> str:
    """Recce's file name: ``query-diff-export-2026-11-30.csv``."""
    return f"{run_type.replace('_', '-')}-export-{today.isoformat()}.{fmt}"


def content_disposition(name: str) -> str:
    return f'attachment; filename="{name}"'


def cell_text(value: Any) -> str:
    """One value as text in a CSV or TSV file.

    NULL is an empty field; decimals are exact (``9.85``, never ``9.8499999``); floats are
    the shortest text that reads back the same, and NaN and infinities are ``NaN``,
    ``Infinity``, ``-Infinity``; booleans are ``true``/``false``; dates are ISO 8601
    (``2026-11-30``); timestamps with a time zone are ISO 8601 in UTC with ``Z``, those
    without one are ISO 8601 as stored; times are ``12:34:56``; intervals are ISO 8601
    durations (``P1DT2H``); bytes are hexadecimal after ``\\x`` (PostgreSQL's bytea text);
    lists, structs and maps are JSON.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, dt.datetime):
        return datetime_text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    return str(value)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _decimal_text(value: Decimal) -> str:
    if value.is_nan():
        return "NaN"
    if value.is_infinite():
        return "Infinity" if value > 0 else "-Infinity"
    return format(value, "f")  # never scientific: 1E-8 is 0.00000001


def datetime_text(value: dt.datetime) -> str:
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"
    return value.isoformat()


def duration_text(value: dt.timedelta) -> str:
    """An ISO 8601 duration: ``P1DT2H3M4.5S``, ``-PT1S``, ``PT0S``."""
    if value < dt.timedelta(0):
        return "-" + duration_text(-value)
    days, seconds, micros = value.days, value.seconds, value.microseconds
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    time = ""
    if hours:
        time += f"{hours}H"
    if minutes:
        time += f"{minutes}M"
    if secs or micros:
        time += f"{secs}.{micros:06d}".rstrip("0").rstrip(".") + "S"
    if not days and not time:
        return "PT0S"
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dt.datetime):
        return datetime_text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)
