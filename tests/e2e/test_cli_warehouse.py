"""`recce-trio run` executes recce.yml's warehouse checks in the dbt profile's warehouse, and
`summary` shows their outcomes; without a profile they are skipped (exit 0 both ways)."""

from __future__ import annotations

import json
from pathlib import Path

from recce_trio.demo.build_db import build
from tests.e2e.test_cli import run_cli

DEMO = Path(__file__).resolve().parents[2] / "recce_trio" / "demo"

RECCE_YML = """\
checks:
  - name: Orders row count
    type: row_count_diff
    params:
      node_names: [orders, customers]
  - name: Lifetime value by customer
    type: query_diff
    params:
      sql_template: select customer_id, lifetime_value from {{ ref('customers') }}
      primary_keys: [customer_id]
  - name: A model that is not there
    type: value_diff
    params:
      model: no_such_model
      primary_key: id
"""


def _project(tmp_path: Path, *, profile: bool) -> Path:
    project = tmp_path / "project"
    for env in ("target", "target-base"):
        (project / env).mkdir(parents=True)
        for name in ("manifest.json", "catalog.json"):
            (project / env / name).write_bytes((DEMO / env / name).read_bytes())
    (project / "recce.yml").write_text(RECCE_YML)
    (project / "dbt_project.yml").write_text("name: oracle_shop\nprofile: shop\n")
    if profile:
        build(tmp_path / "shop.duckdb")
        (project / "profiles.yml").write_text(
            "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
            f"      path: {tmp_path / 'shop.duckdb'}\n      threads: 2\n"
        )
    return project


def test_run_executes_the_warehouse_checks_and_summary_shows_them(tmp_path: Path) -> None:
    project = _project(tmp_path, profile=True)
    out = tmp_path / "state.json"
    home = {"HOME": str(tmp_path / "home"), "DBT_PROFILES_DIR": ""}
    result = run_cli("run", "--project-dir", str(project), "-o", str(out), env=home)
    assert result.returncode == 0, result.stderr
    assert "[Success] Orders row count (row_count_diff)" in result.stdout
    assert "[Success] Lifetime value by customer (query_diff)" in result.stdout
    assert "[Failed] A model that is not there (value_diff)" in result.stdout
    assert "no_such_model" in result.stdout
    state = json.loads(out.read_text())
    counts = next(r for r in state["runs"] if r["type"] == "row_count_diff")["result"]
    assert (counts["orders"]["base"], counts["orders"]["curr"]) == (6, 7)
    diff = next(r for r in state["runs"] if r["type"] == "query_diff")["result"]["diff"]
    assert [row[0] for row in diff["data"]] == [2, 2]  # customer 2, before and after

    summary = run_cli("summary", str(out), env=home)
    assert summary.returncode == 0, summary.stderr
    assert "orders: 6 → 7 rows" in summary.stdout
    assert "2 rows differ" in summary.stdout
    assert "❌ Failed" in summary.stdout


def test_run_without_a_profile_skips_the_warehouse_checks(tmp_path: Path) -> None:
    project = _project(tmp_path, profile=False)
    out = tmp_path / "state.json"
    env = {"HOME": str(tmp_path / "home"), "DBT_PROFILES_DIR": ""}
    result = run_cli("run", "--project-dir", str(project), "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert "[Skipped] Orders row count (row_count_diff): needs a warehouse connection" in (
        result.stdout
    )
