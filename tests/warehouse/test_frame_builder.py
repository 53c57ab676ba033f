"""A keyed diff's frame built a block of rows and a group of columns at a time, as JSON text
(core/runresults/builder.py), is the frame ``dataframe`` makes of the same rows at once:
the same column types, values, ``more``; packed (as the server keeps it) it encodes to the
same bytes. A column whose type changes between blocks is built again whole, not sent
under the wrong type."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from recce_trio.core.runresults.builder import FrameBuilder, RowsSink
from recce_trio.core.runresults.frames import column_kinds, dataframe

UTC = dt.UTC
# Values of one Python type per column (as a warehouse column gives them), and columns of
# mixed types (a UNION or JSON column, integers beyond 64 bits in a few rows).
KINDS = {
    "int": st.integers(-(2**40), 2**40),
    "wide_int": st.integers(-(2**70), 2**70),
    "float": st.floats(allow_nan=True, allow_infinity=True),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False, places=3),
    "text": st.text(max_size=8),
    "bool": st.booleans(),
    "date": st.dates(),
    "datetime": st.datetimes(),
    "datetime_tz": st.datetimes(timezones=st.just(UTC)),
    "bytes": st.binary(max_size=4),
    "list": st.lists(st.integers(0, 9), max_size=3),
}


@st.composite
def columns_of_rows(draw: Any) -> tuple[list[str], list[list[Any]]]:
    width = draw(st.integers(1, 5))
    kinds = [
        draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=2)) for _ in range(width)
    ]
    count = draw(st.integers(0, 12))
    rows = []
    for _ in range(count):
        row = []
        for column in kinds:
            null = draw(st.integers(0, 3)) == 0
            row.append(None if null else draw(KINDS[draw(st.sampled_from(column))]))
        rows.append(row)
    return [f"c{i}" for i in range(width)], rows


def _fill(
    sink: Any, columns: list[str], rows: list[list[Any]], cuts: list[int], group: int
) -> None:
    """The rows into ``sink`` in blocks (cut at ``cuts``), every other block a group of
    ``group`` columns at a time, the others whole."""
    edges = [0, *sorted({c for c in cuts if 0 < c < len(rows)}), len(rows)]
    for n, (lo, hi) in enumerate(itertools.pairwise(edges)):
        block = rows[lo:hi]
        if n % 2:
            sink.add_rows(columns, block)
            continue
        sink.begin(columns, len(block))
        for start in range(0, len(columns), group):
            for i in range(start, min(len(columns), start + group)):
                sink.add_column(i, [row[i] for row in block])
        sink.end()


def _same(a: Any, b: Any) -> bool:
    return msgspec.json.encode(a) == msgspec.json.encode(b)


@settings(max_examples=300, deadline=None)
@given(
    frame=columns_of_rows(),
    limit=st.integers(1, 14),
    cuts=st.lists(st.integers(0, 12), max_size=4),
    group=st.integers(1, 3),
)
def test_the_built_frame_is_the_frame_of_all_the_rows(
    frame: tuple[list[str], list[list[Any]]], limit: int, cuts: list[int], group: int
) -> None:
    columns, rows = frame
    expected = dataframe(columns, rows[:limit], limit=limit, more=len(rows) > limit)
    whole = RowsSink(limit)
    _fill(whole, columns, rows, cuts, group)
    assert _same(whole.frame(), expected)
    for packed in (False, True):
        builder = FrameBuilder(limit, packed=packed)
        _fill(builder, columns, rows, cuts, group)
        built = builder.frame()
        if built is None:  # only where a column's values vote for several types
            kept = rows[:limit]
            assert any(_mixed([row[i] for row in kept]) for i in range(len(columns)))
            continue
        assert _same(built, expected)
        if packed:
            assert all(isinstance(row, msgspec.Raw) for row in built["data"])
        else:
            assert built == expected


def _mixed(values: list[Any]) -> bool:
    wide = any(type(v) is int and abs(v) >= 2**63 for v in values)
    return len(column_kinds(values)) > 1 or wide


def test_a_column_that_changes_type_between_blocks_is_built_again_whole() -> None:
    columns = ["id", "n"]
    # A 64-bit integer column, then a row whose value does not fit: number, as text, in
    # every row; the first block was serialised as integers.
    first, second = [[1, 5], [2, 7]], [[3, 2**70]]
    builder = FrameBuilder(10)
    builder.add_rows(columns, first)
    builder.add_rows(columns, second)
    assert builder.frame() is None
    rows = RowsSink(10)
    rows.add_rows(columns, first)
    rows.add_rows(columns, second)
    frame = rows.frame()
    assert frame is not None
    assert [c["type"] for c in frame["columns"]] == ["integer", "number"]
    assert frame["data"] == [[1, "5"], [2, "7"], [3, str(2**70)]]


def test_nulls_first_then_values_keep_the_values_type() -> None:
    builder = FrameBuilder(3)
    builder.add_rows(["d"], [[None], [None]])
    builder.add_rows(["d"], [[Decimal("1.50")], [dt.date(2024, 1, 2)]])
    frame = builder.frame()
    assert frame is not None  # the NULLs were sent as null under any type
    assert frame["columns"][0]["type"] == "number"  # the date, fourth, is not kept
    assert frame["data"] == [[None], [None], ["1.50"]]
    assert frame["more"] is True
