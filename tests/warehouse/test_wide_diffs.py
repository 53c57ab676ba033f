"""Diffs of a wide table (data.wide: 150 columns, 3,000 rows, changed values, NULLs, removed
and added rows) on every engine: in groups of columns (value_diff), in two phases
(query_diff, value_diff_detail: keyed_wide.py) and with each column's distinct count and
median apart (profile), they give what the plain form gives; the value diff's counts match a
count made in Python; a cancel in the middle of the two phases stops the run."""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

from recce_trio.core.checks import Run
from recce_trio.core.runsql import keyed_groups, partitions
from recce_trio.core.summary import run_outcome
from recce_trio.errors import RunCancelledError
from recce_trio.warehouse import keyed_wide, run_models
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.runner import execute_run
from tests.warehouse import data
from tests.warehouse.conftest import ENGINES

WIDE_QUERY = "select * from {{ ref('wide') }}"


def _context(engine: Any) -> RunContext:
    return RunContext(
        base=data.wide_manifest("prod"), current=data.wide_manifest("dev"), engine=engine
    )


def _run(engine: Any, run_type: str, params: dict[str, Any]) -> Any:
    return execute_run(run_type, dict(params), _context(engine)).result


def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every diff whole, in one statement (no ranges, hence no groups)."""
    monkeypatch.setattr(partitions, "CELLS_PER_RANGE", 10**15)


def _two_phase_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = keyed_wide.diff

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(keyed_wide, "diff", counted)
    return calls


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


def test_value_diff_in_groups_counts_what_python_counts(engine: Any, engine_name: str) -> None:
    result = _run(engine, "value_diff", {"model": "wide", "primary_key": "id"})
    base = {r[0]: r for r in engine.execute("SELECT * FROM wh.prod.wide").rows}
    current = {r[0]: r for r in engine.execute("SELECT * FROM wh.dev.wide").rows}
    common = [k for k in base if k in current]
    assert result["summary"] == {
        "total": len(base) + len(current) - len(common),
        "added": len(current) - len(common),
        "removed": len(base) - len(common),
    }
    names = ["id", *(f"w{i}" for i in range(1, data.WIDE_COLUMNS))]
    matched = [int(row[1]) for row in result["data"]["data"]]
    expected = [sum(_same(base[k][i], current[k][i]) for k in common) for i in range(len(names))]
    assert [row[0] for row in result["data"]["data"]] == names
    assert matched == expected
    assert 0 < min(matched) < len(common)  # some columns did change


def test_value_diff_in_groups_gives_the_plain_form_s_result(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"model": "wide", "primary_key": "id"}
    grouped = _run(engine, "value_diff", params)
    monkeypatch.setattr(partitions, "CELLS_PER_RANGE", 20_000)  # more, smaller ranges
    assert _run(engine, "value_diff", params) == grouped
    _plain(monkeypatch)
    assert _run(engine, "value_diff", params) == grouped


@pytest.mark.parametrize("limit", [7, 60, 5000])
@pytest.mark.parametrize(
    ("run_type", "params"),
    [
        ("query_diff", {"sql_template": WIDE_QUERY, "primary_keys": ["id"]}),
        ("value_diff_detail", {"model": "wide", "primary_key": "id"}),
    ],
)
def test_the_two_phase_diff_gives_the_plain_form_s_rows(
    engine: Any,
    engine_name: str,
    run_type: str,
    params: dict[str, Any],
    limit: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from recce_trio.core.runsql import queries

    monkeypatch.setattr(queries, "QUERY_LIMIT", limit)
    monkeypatch.setattr(queries, "DETAIL_LIMIT", limit)
    calls = _two_phase_calls(monkeypatch)
    monkeypatch.setattr(partitions, "CELLS_PER_RANGE", 40_000)  # a few ranges
    split = _run(engine, run_type, params)
    if engine_name != "postgres":  # PostgreSQL diffs in its own server, whole
        assert calls, "the wide diff did not take the two-phase form"
    _plain(monkeypatch)
    plain = _run(engine, run_type, params)
    assert split == plain
    frame = plain["diff"] if run_type == "query_diff" else plain
    assert len(frame["data"]) == min(limit, len(frame["data"])) and frame["data"]
    assert frame["more"] == (limit < 5000)


def test_a_profile_with_distinct_counts_and_medians_apart_gives_the_same_profile(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _run(engine, "profile_diff", {"model": "wide"})
    monkeypatch.setattr(run_models, "APART_ROWS", 0)
    assert _run(engine, "profile_diff", {"model": "wide"}) == whole
    medians = [row[-1] for row in whole["current"]["data"] if row[-1] is not None]
    assert len(medians) >= 70  # the integer and double columns have one


# PostgreSQL diffs whole, in one statement: it has no two phases to cancel in between.
@pytest.mark.parametrize("engine_name", [e for e in ENGINES if e != "postgres"])
def test_a_cancel_in_the_middle_of_the_two_phases_stops_the_run(
    engine: Any, engine_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitions, "CELLS_PER_RANGE", 40_000)
    ctx = _context(engine)
    real = keyed_groups.rows_of_keys
    phases: list[str] = []

    def cancel_at_phase_three(*args: Any, **kwargs: Any) -> str:
        phases.append("rows")
        ctx.cancel.cancel()
        return real(*args, **kwargs)

    monkeypatch.setattr(keyed_groups, "rows_of_keys", cancel_at_phase_three)
    params = {"model": "wide", "primary_key": "id"}
    with pytest.raises(RunCancelledError):
        execute_run("value_diff_detail", dict(params), ctx)
    assert phases == ["rows"]  # stopped at the first statement after the cancel
    monkeypatch.setattr(keyed_groups, "rows_of_keys", real)
    after = _run(engine, "value_diff_detail", params)
    assert len(after["data"]) > 100  # the connection still diffs


@pytest.mark.parametrize(
    ("run_type", "params"),
    [
        ("query_diff", {"sql_template": WIDE_QUERY, "primary_keys": ["id"]}),
        ("value_diff_detail", {"model": "wide", "primary_key": "id"}),
    ],
)
def test_frames_built_a_block_at_a_time_and_packed_send_the_same_json(
    engine: Any, run_type: str, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the server keeps them (rows of JSON text) and as they were built before (every
    row at once), over several ranges and groups of columns: the same bytes on the wire."""
    monkeypatch.setattr(partitions, "CELLS_PER_RANGE", 40_000)  # a few ranges
    packed_ctx = _context(engine)
    packed_ctx.packed_frames = True
    packed = execute_run(run_type, dict(params), packed_ctx).result
    whole_ctx = _context(engine)
    whole_ctx.build_frames = False
    whole = execute_run(run_type, dict(params), whole_ctx).result
    assert msgspec.json.encode(packed) == msgspec.json.encode(whole)
    frame = packed["diff"] if run_type == "query_diff" else packed
    assert frame["data"] and all(isinstance(row, msgspec.Raw) for row in frame["data"])
    assert run_outcome(Run(type=run_type, result=packed)).endswith(
        f"{len(frame['data'])} rows" if run_type == "value_diff_detail" else "rows differ"
    )
