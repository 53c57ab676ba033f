"""Preset checks, server-side runs and the pull-request summary, on generated artifacts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from recce_trio.core.artifacts import decode_catalog, decode_manifest
from recce_trio.core.checks import (
    FAILED,
    FINISHED,
    RUNNING,
    Check,
    PresetCheckError,
    Run,
    is_outdated,
    parse_preset_checks,
)
from recce_trio.core.diff import LineageDiff, build_lineage_diff
from recce_trio.core.runs import RunRequestError, check_run_type, execute, schema_unchanged
from recce_trio.core.summary import GITHUB_COMMENT_LIMIT, MAX_MERMAID_CHARS, build_summary
from tests.artifact_json import catalog, manifest

REPO = Path(__file__).resolve().parents[2]


def lineage_diff() -> LineageDiff:
    base = manifest({"stg_orders": "select 1", "orders": "select 2", "old": "select 9"})
    current = manifest({"stg_orders": "select 1", "orders": "select 3", "fresh": "select 4"})
    base_cat = catalog({"model.shop.orders": {"id": "integer", "amount": "double",
                                              "gone": "text"}})  # fmt: skip
    current_cat = catalog({"model.shop.orders": {"id": "bigint", "amount": "double",
                                                 "note": "text"},
                           "model.shop.fresh": {"x": "integer"}})  # fmt: skip
    return build_lineage_diff(
        decode_manifest(json.dumps(base).encode(), path="base"),
        decode_catalog(json.dumps(base_cat).encode(), path="base"),
        decode_manifest(json.dumps(current).encode(), path="current"),
        decode_catalog(json.dumps(current_cat).encode(), path="current"),
    )


def test_preset_checks_are_read_and_bad_entries_named() -> None:
    text = """
checks:
  - name: Schema diff
    description: |
      All nodes.
    type: schema_diff
  - name: Rows
    type: row_count_diff
    params: {select: "state:modified"}
"""
    presets = parse_preset_checks(text, path="recce.yml")
    assert [p["type"] for p in presets] == ["schema_diff", "row_count_diff"]
    assert presets[0]["description"] == "All nodes.\n"
    assert presets[1]["params"] == {"select": "state:modified"}
    with pytest.raises(PresetCheckError, match=r"checks\[2\] \('Bad'\) has type 'rowcount'"):
        parse_preset_checks(text + "  - name: Bad\n    type: rowcount\n", path="recce.yml")
    with pytest.raises(PresetCheckError, match="not valid YAML"):
        parse_preset_checks("checks: [", path="recce.yml")
    with pytest.raises(PresetCheckError, match=r"checks\[0\] has no name"):
        parse_preset_checks("checks:\n  - type: schema_diff\n", path="recce.yml")


def test_run_types_recce_trio_cannot_execute_say_why() -> None:
    assert check_run_type("schema_diff") == "schema_diff"
    with pytest.raises(RunRequestError, match="'query_diff' needs a warehouse connection"):
        check_run_type("query_diff")
    with pytest.raises(RunRequestError, match="^Run type 'simple' not supported$"):
        check_run_type("simple")
    with pytest.raises(RunRequestError, match="^Run type 'bogus' not supported$"):
        check_run_type("bogus")


def test_schema_diff_lists_columns_and_changes() -> None:
    result = execute("schema_diff", {"node_id": "model.shop.orders"}, lineage_diff())
    assert result["nodes"]["model.shop.orders"] == {
        "name": "orders",
        "resource_type": "model",
        "change_status": "modified",
        "base": {"id": "integer", "amount": "double", "gone": "text"},
        "current": {"id": "bigint", "amount": "double", "note": "text"},
        "added": ["note"],
        "removed": ["gone"],
        "changed": {"id": {"base": "integer", "current": "bigint"}},
    }
    assert not schema_unchanged(result)
    with pytest.raises(RunRequestError, match="node_id 'model.shop.nope' not found"):
        execute("schema_diff", {"node_id": "model.shop.nope"}, lineage_diff())


def test_lineage_diff_run_selects_changed_nodes() -> None:
    result = execute("lineage_diff", {"select": "state:modified"}, lineage_diff())
    assert set(result["diff"]) == {"model.shop.orders", "model.shop.fresh", "model.shop.old"}
    assert result["diff"]["model.shop.fresh"]["change_status"] == "added"


GOLDEN = """\
# Recce Summary

## Manifest Information

| | Manifest | Catalog |
|---|---|---|
| Base | 2026-01-01 00:00:00 | 2026-01-01 00:00:00 |
| Current | 2026-01-01 00:00:00 | 2026-01-01 00:00:00 |

## Changed Models (3)

| Name | Type | Change | Columns |
|---|---|---|---|
| fresh | model | added | 1 columns |
| old | model | removed | — |
| orders | model | modified | ~id (integer → bigint), +note, −gone |

## Lineage Graph

```mermaid
graph LR
n0["fresh"]
style n0 stroke:#1dce00
n1["old"]
style n1 stroke:#ff067e
n2["orders"]
style n2 stroke:#ffa502
n2 --> n0
n2 -.-> n1
```

## Checks (3)

1 of 3 approved.

| Name | Type | Status |
|---|---|---|
| Schema of orders | Schema Diff | ✅ Approved |
| Rows \\| all | Row Count Diff | ⏳ Pending review |
| Broken | Lineage Diff | ❌ Failed: bad selector |
"""


def test_summary_golden_markdown() -> None:
    checks = [
        Check(name="Schema of orders", type="schema_diff", is_checked=True),
        Check(name="Rows | all", type="row_count_diff"),
        Check(name="Broken", type="lineage_diff"),
    ]
    runs = [Run(type="lineage_diff", check_id=checks[2].check_id, error="bad selector")]
    assert build_summary(lineage_diff(), checks, runs) == GOLDEN


def test_summary_of_a_large_project_stays_within_the_limits(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from make_artifacts import make_project
    finally:
        sys.path.remove(str(REPO / "bench"))
    make_project(tmp_path, 2000, seed=3)
    load = {
        name: (tmp_path / folder / f"{kind}.json").read_bytes()
        for name, folder, kind in (
            ("bm", "target-base", "manifest"), ("bc", "target-base", "catalog"),
            ("cm", "target", "manifest"), ("cc", "target", "catalog"),
        )
    }  # fmt: skip
    diff = build_lineage_diff(
        decode_manifest(load["bm"], path="bm"), decode_catalog(load["bc"], path="bc"),
        decode_manifest(load["cm"], path="cm"), decode_catalog(load["cc"], path="cc"),
    )  # fmt: skip
    checks = [Check(name=f"check {i}", type="schema_diff") for i in range(80)]
    text = build_summary(diff, checks, [])
    assert len(text) < GITHUB_COMMENT_LIMIT
    graph = text.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert len(graph) <= MAX_MERMAID_CHARS
    assert "Too many nodes to draw them all" in text
    assert "more checks" in text


def test_is_outdated_compares_the_last_run_with_the_newest_artifact() -> None:
    generated = ["2026-01-01T00:00:00Z", None, "2026-01-02T00:00:00Z"]
    old = Run(type="schema_diff", status=FINISHED, run_at="2026-01-01T12:00:00Z")
    new = Run(type="schema_diff", status=FAILED, run_at="2026-01-02T00:00:01Z")
    running = Run(type="schema_diff", status=RUNNING, run_at="2025-01-01T00:00:00Z")
    assert is_outdated(old, generated) is True  # the newest artifact came after it
    assert is_outdated(new, generated) is False
    assert is_outdated(running, generated) is False  # no result yet to be outdated
    assert is_outdated(None, generated) is False
    assert is_outdated(old, []) is False  # nothing to compare with
