"""Histogram geometry, as Recce draws it: 'nice' numeric bins and calendar date bins."""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from recce_trio.errors import RunParamsError

_TEXT_PREFIXES = ("char", "varchar", "nvarchar", "nchar", "text", "string", "character", "clob")
_OTHER_REJECTED = ("bool", "bit", "json", "jsonb", "xml", "tinyint(1)", "number(1)")
_DATE_PREFIXES = ("date", "datetime", "timestamp", "smalldatetime")
_NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5))


def check_column_type(column_type: str) -> None:
    """Refuse, as Recce does when the run is submitted, types a histogram cannot show."""
    t = column_type.strip().lower()
    rejected = (
        t.startswith(_TEXT_PREFIXES)
        or t.startswith(("bool", "json", "xml", "bit"))
        or t in _OTHER_REJECTED
        or t in ("time", "timetz")
        or t.startswith(("time ", "time(", "time with"))
    )
    if rejected:
        raise RunParamsError(f"Column type {column_type} is not supported for histogram analysis")


def is_date_type(column_type: str) -> bool:
    return column_type.strip().lower().startswith(_DATE_PREFIXES)


def is_integral_type(column_type: str) -> bool:
    t = column_type.strip().lower()
    return "int" in t and not t.startswith("interval")


def nice_width(raw: Decimal) -> Decimal:
    """The smallest of {1, 2, 2.5, 5} x 10^k that is at least ``raw``."""
    if raw <= 0:
        return Decimal(1)
    k = raw.adjusted()
    for exponent in (k, k + 1):
        for m in _NICE:
            candidate = m.scaleb(exponent)
            if candidate >= raw:
                return candidate
    return Decimal(1).scaleb(k + 2)  # not reached


def numeric_edges(
    min_value: Any, max_value: Any, num_bins: int, *, integral: bool
) -> tuple[list[Decimal], Decimal]:
    """Bin edges and width: width is a nice number, at least 1 for integers; the lowest edge
    is a multiple of the width (0 when the data starts between 0 and one width)."""
    lo, hi = Decimal(str(min_value)), Decimal(str(max_value))
    width = nice_width((hi - lo) / max(1, num_bins))
    if integral:
        width = max(width, Decimal(1))
    lower = (lo / width).to_integral_value(rounding="ROUND_FLOOR") * width
    if lo >= 0 and math.ceil(lo / width) <= 1:
        lower = Decimal(0)
    edges = [lower, lower + width]
    while edges[-1] < hi:
        edges.append(edges[-1] + width)
    return edges, width


def edge_json(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def edge_label(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def numeric_labels(edges: Sequence[Decimal], width: Decimal) -> list[str]:
    """Recce's labels: one per edge (so one more than there are bins)."""
    return [f"{edge_label(e)}-{edge_label(e + width)}" for e in edges]


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def date_edges(min_value: Any, max_value: Any) -> tuple[str, list[dt.date]]:
    """The bin unit (year, month or day) and the edges covering [min, max]."""
    lo, hi = _as_date(min_value), _as_date(max_value)
    span = (hi - lo).days
    if span > 1460:
        years = hi.year + 1 - lo.year
        step = max(1, math.ceil(years / 50))
        edges = [dt.date(lo.year, 1, 1)]
        while edges[-1] < dt.date(hi.year + 1, 1, 1):
            edges.append(dt.date(edges[-1].year + step, 1, 1))
        return "year", edges
    if span > 60:
        edges = [dt.date(lo.year, lo.month, 1)]
        end = _add_months(dt.date(hi.year, hi.month, 1), 1)
        while edges[-1] < end:
            edges.append(_add_months(edges[-1], 1))
        return "month", edges
    return "day", [lo + dt.timedelta(days=i) for i in range(span + 2)]


def place_dates(edges: Sequence[dt.date], rows: Sequence[tuple[Any, int]]) -> list[int]:
    """Counts per bin from (truncated date, count) rows."""
    counts = [0] * (len(edges) - 1)
    for value, n in rows:
        if value is None:
            continue
        i = bisect.bisect_right(edges, _as_date(value)) - 1
        counts[min(max(i, 0), len(counts) - 1)] += int(n)
    return counts
