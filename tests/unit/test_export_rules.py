"""The pure rules of exporting a run's rows: which runs can be, the LIMIT pushed down to the
warehouse, each side's statement, the file name, and each value's text."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from recce_trio.core.runsql import export as rules
from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.errors import RequestError

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", "SELECT * FROM (select 1 as a) AS _export_limited LIMIT 500000"),
        ("postgres", "SELECT * FROM (select 1 as a) AS _export_limited LIMIT 500000"),
        (
            "sqlserver",
            "SELECT TOP 500000 * FROM (SELECT * FROM (select 1 as a) AS _export_limited) "
            "AS _recce_limited",
        ),
    ],
)
def test_the_row_limit_is_pushed_down_to_the_warehouse(dialect: str, expected: str) -> None:
    # The statement's own trailing semicolon would not nest: it is dropped.
    sql = rules.limited_sql(SqlDialect(dialect), "select 1 as a;\n", rules.ROW_LIMIT)
    assert sql == expected


def test_the_limits_are_recces() -> None:
    assert (rules.ROW_LIMIT, rules.XLSX_ROW_LIMIT, rules.MAX_CONCURRENT) == (500_000, 100_000, 2)
    assert rules.row_limit("csv") == rules.row_limit("tsv") == 500_000
    assert rules.row_limit("xlsx") == 100_000


def test_each_run_type_runs_its_sides_in_their_environments() -> None:
    sql, other = "select * from {{ ref('a') }}", "select * from {{ ref('b') }}"
    assert rules.export_sides("query", {"sql_template": sql}) == [
        rules.ExportSide(sql, "current", "")
    ]
    assert rules.export_sides("query_base", {"sql_template": sql}) == [
        rules.ExportSide(sql, "base", "")
    ]
    assert rules.export_sides("query_diff", {"sql_template": sql}) == [
        rules.ExportSide(sql, "base", "base__"),
        rules.ExportSide(sql, "current", "current__"),
    ]
    assert rules.export_sides("query_diff", {"sql_template": sql, "base_sql_template": other}) == [
        rules.ExportSide(other, "base", "base__"),
        rules.ExportSide(sql, "current", "current__"),
    ]
    # A preview compares with the model as it is in the current environment (as the run did).
    assert rules.export_sides(
        "query_diff", {"sql_template": sql, "base_sql_template": other, "current_model": "m"}
    ) == [
        rules.ExportSide('select * from {{ ref("m") }}', "current", "base__"),
        rules.ExportSide(sql, "current", "current__"),
    ]


def refused(run_type: str, params: dict[str, Any], result: Any = None, fmt: str = "csv") -> str:
    with pytest.raises(RequestError) as caught:
        rules.check_exportable(run_type, params, result, fmt)
    assert caught.value.http_status == 400
    return str(caught.value)


def test_what_cannot_be_exported_says_why() -> None:
    assert "only query, query_base and query_diff runs" in refused("value_diff", {})
    message = refused("query_diff", {"sql_template": "x", "primary_keys": ["id"]})
    assert "query_diff run with primary_keys cannot be exported" in message
    frame = {"columns": [], "data": [], "total_row_count": 500_001}
    assert "500,001 rows, more than the 500,000" in refused("query", {}, frame)
    diff = {"base": {"total_row_count": 10}, "current": {"total_row_count": 100_001}}
    assert "xlsx export holds at most 100,000" in refused("query_diff", {}, diff, "xlsx")
    # Within the limits, or no recorded total (an older state file, a failed run): allowed.
    rules.check_exportable("query", {}, {"total_row_count": 500_000}, "csv")
    rules.check_exportable("query_diff", {"primary_keys": []}, None, "xlsx")
    rules.check_exportable("query_base", {}, {"total_row_count": None}, "xlsx")


def test_the_format_is_csv_tsv_or_xlsx() -> None:
    assert rules.check_format(None) == "csv"
    assert rules.check_format("xlsx") == "xlsx"
    with pytest.raises(RequestError, match=r"Unsupported format: 'CSV'\. Use one of: csv, tsv"):
        rules.check_format("CSV")


def test_the_file_is_named_as_recce_names_it() -> None:
    name = rules.filename("query_diff", "tsv", dt.date(2026, 11, 30))
    assert name == "query-diff-export-2026-11-30.tsv"
    assert rules.content_disposition(name) == (
        'attachment; filename="query-diff-export-2026-11-30.tsv"'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("", ""),
        ("a,b", "a,b"),  # quoting is the CSV writer's
        (True, "true"),
        (0, "0"),
        (2**70, "1180591620717411303424"),
        (0.1, "0.1"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
        (Decimal("10.00"), "10.00"),
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("12345678901234567890.123456789"), "12345678901234567890.123456789"),
        (Decimal("Infinity"), "Infinity"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (dt.datetime(2024, 5, 25, 9, 15), "2024-05-25T09:15:00"),
        (
            dt.datetime(2024, 5, 25, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2024-05-25T07:15:00Z",
        ),
        (dt.time(12, 34, 56), "12:34:56"),
        (dt.timedelta(days=1, hours=2, seconds=4.5), "P1DT2H4.5S"),
        (dt.timedelta(0), "PT0S"),
        (-dt.timedelta(seconds=1), "-PT1S"),
        (b"\n\xff", "\\x0aff"),
        (memoryview(b"ab"), "\\x6162"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ([1, "é", None], '[1, "é", null]'),
        ({"k": Decimal("1.5")}, '{"k": 1.5}'),
    ],
)
def test_each_value_is_written_as_documented(value: Any, text: str) -> None:
    assert rules.cell_text(value) == text


def test_the_server_does_not_load_xlsxwriter_or_the_warehouse_until_an_export() -> None:
    code = (
        "import sys, recce_trio.server.app, recce_trio.server.api.runs, recce_trio.server.export\n"
        "print(sorted(m for m in ('xlsxwriter', 'sqlglot', 'duckdb') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(PACKAGE_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]"
