"""Recce's DataFrame: ``{columns:[{key,name,type}], data, limit, more, total_row_count}``.

Column types follow Recce (through dbt and agate): they are inferred from the *values*, not
from the warehouse's types, in agate's order (integer, number, date, datetime, boolean, text);
an empty or all-NULL column is ``integer``. Numbers other than integers travel as strings of
their exact decimal text; NaN and infinities become null.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

COLUMN_TYPES = (
    "number",
    "integer",
    "text",
    "boolean",
    "date",
    "datetime",
    "timedelta",
    "unknown",
    "float",
)
# JSON integers beyond 64 bits are not safe for every client: such columns become numbers.
_INT_LIMIT = 2**63
# Run types whose stored results Recce re-validates on load (and so fills in ``key``).
_DATAFRAME_RESULTS = {
    "query": (None,),
    "query_base": (None,),
    "query_diff": ("base", "current", "diff"),
    "profile": ("current",),
    "profile_diff": ("base", "current"),
    "value_diff": ("data",),
    "value_diff_detail": (None,),
}


def _kind(value: Any) -> str:
    """The type one non-null value votes for."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer" if -_INT_LIMIT < value < _INT_LIMIT else "number"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    return "text"


def column_kinds(values: Iterable[Any]) -> set[str]:
    """The votes of a column's values for its type (``type_of_kinds``): one per Python type
    among them, and for integers ``number`` when some do not fit in 64 bits. The votes of a
    column's values taken block by block, put together (a union), give the same type as the
    votes of all of them at once."""
    present = [v for v in values if v is not None]
    first: dict[type, Any] = {}
    for v in present:
        first.setdefault(type(v), v)
    kinds: set[str] = set()
    for kind, sample in first.items():  # a few Python types: one vote each
        if issubclass(kind, int) and not issubclass(kind, bool):
            ints = [v for v in present if type(v) is kind]
            narrow = min(ints) > -_INT_LIMIT and max(ints) < _INT_LIMIT
            kinds.add("integer" if narrow else "number")  # some too wide: number wins anyway
        else:
            kinds.add(_kind(sample))
    return kinds


def type_of_kinds(kinds: set[str]) -> str:
    """Recce's type of a column from its values' votes (``integer`` when there are none)."""
    if not kinds:
        return "integer"
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= {"integer", "number"}:
        return "number"
    if kinds <= {"date", "datetime"}:
        return "datetime"
    return "text"


def column_type(values: Iterable[Any]) -> str:
    """Recce's type of a column from its values (``integer`` when there are none)."""
    return type_of_kinds(column_kinds(values))


def _number_text(value: Any) -> str | None:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return str(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return None if not value.is_finite() else str(value)
    return str(value)


def _datetime_text(value: dt.datetime) -> str:
    if value.tzinfo is not None and value.utcoffset() is not None:
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        return utc.isoformat() + "Z"
    return value.isoformat()


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, memoryview | bytearray):
        value = bytes(value)
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview | bytearray | uuid.UUID | dt.timedelta):
        return str(bytes(value) if isinstance(value, memoryview | bytearray) else value)
    return str(value)


def serialise(value: Any, type_: str) -> Any:
    """One value as Recce sends it in a column of type ``type_``."""
    if value is None:
        return None
    if type_ == "integer":
        return int(value)
    if type_ in ("number", "float"):
        return _number_text(value)
    if type_ == "boolean":
        return bool(value)
    if type_ == "datetime":
        if isinstance(value, dt.datetime):
            return _datetime_text(value)
        return dt.datetime.combine(value, dt.time()).isoformat()
    if type_ == "date":
        return value.isoformat()
    return _text(value)


def serialise_column(values: list[Any], type_: str) -> list[Any]:
    """``serialise`` over one column, with the common cases (ints, strings) inline."""
    if type_ == "integer":
        return [None if v is None else v if type(v) is int else int(v) for v in values]
    if type_ == "text":
        return [v if v is None or type(v) is str else _text(v) for v in values]
    return [serialise(v, type_) for v in values]


def dataframe(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    limit: int | None = None,
    more: bool | None = None,
    total_row_count: int | None = None,
    types: Sequence[str] | None = None,
    consume: bool = False,
) -> dict[str, Any]:
    """A DataFrame from rows; ``types`` (Recce's names) overrides the inferred ones.

    Converted column by column; after each column the thread sleeps for 0 s, which hands the
    GIL to a waiting thread (the server's event loop) at once instead of after Python's
    switch interval (5 ms), so converting 2,000 wide rows in a worker does not slow /api/health.
    ``consume``: ``rows`` (a list no one else holds) is emptied, and each column's values
    are let go once converted, so the rows and the frame are not both held in full (2,000
    rows of 200 columns: some 10 MB).
    """
    by_column: list[list[Any] | None] = (
        [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in columns]
    )
    if consume and isinstance(rows, list):
        rows.clear()
    if types is None:
        types = [column_type(values or []) for values in by_column]
    data_columns = []
    for i, type_ in enumerate(types):
        data_columns.append(serialise_column(by_column[i] or [], type_))
        if consume:
            by_column[i] = None
        time.sleep(0)
    data = [list(row) for row in zip(*data_columns, strict=True)] if columns else [[] for _ in rows]
    return {
        "columns": [
            {"key": name, "name": name, "type": type_}
            for name, type_ in zip(columns, types, strict=True)
        ],
        "data": data,
        "limit": limit,
        "more": more,
        "total_row_count": total_row_count,
    }


def stamp_types(frame: dict[str, Any], catalog_types: dict[str, str]) -> dict[str, Any]:
    """Label columns with Recce's type from the catalog's warehouse type (matched without
    regard to case): float types become ``float``, which tells the UI to compare them with a
    tolerance. Values are left as they are."""
    lowered = {k.lower(): v.lower() for k, v in catalog_types.items()}
    for column in frame["columns"]:
        db_type = lowered.get(column["name"].lower())
        if db_type is None:
            continue
        if db_type.startswith(("double", "float", "real")):
            column["type"] = "float"
        elif db_type.startswith(("decimal", "numeric", "number", "dec")):
            column["type"] = "number"
        elif "int" in db_type:
            column["type"] = "integer"
    return frame


def upgrade_dataframe(frame: Any) -> Any:
    """An old stored DataFrame made current: every column gets ``key`` (= its name) and the
    optional fields dropped when it was saved come back as null."""
    if not isinstance(frame, dict) or not isinstance(frame.get("columns"), list):
        return frame
    for column in frame["columns"]:
        if isinstance(column, dict) and "key" not in column and "name" in column:
            column["key"] = column["name"]
    for key in ("limit", "more", "total_row_count"):
        frame.setdefault(key, None)
    frame.setdefault("data", [])
    return frame


def upgrade_run_result(run_type: str, result: Any) -> Any:
    """A stored run result brought to the current shape, as Recce does when it loads a state
    file; for the state loader. Results of other types are returned unchanged."""
    parts = _DATAFRAME_RESULTS.get(run_type)
    if parts is None or not isinstance(result, dict):
        return result
    for part in parts:
        if part is None:
            upgrade_dataframe(result)
        elif part == "data":
            upgrade_dataframe(result.get("data"))
        else:
            result.setdefault(part, None)
            upgrade_dataframe(result[part])
    return result
