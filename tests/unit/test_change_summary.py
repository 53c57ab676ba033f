"""The summary's "Change Analysis": each modified model's category and its downstream impact,
on the bundled demo."""

from __future__ import annotations

from recce_trio.config import DEMO_DIR
from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.artifactset import LoadedArtifacts
from recce_trio.core.diff import build_lineage_diff
from recce_trio.core.summary import build_summary, summary_cll


def _demo_summary() -> str:
    artifacts = LoadedArtifacts(
        base_manifest=read_manifest(DEMO_DIR / "target-base" / "manifest.json"),
        base_catalog=read_catalog(DEMO_DIR / "target-base" / "catalog.json"),
        current_manifest=read_manifest(DEMO_DIR / "target" / "manifest.json"),
        current_catalog=read_catalog(DEMO_DIR / "target" / "catalog.json"),
        single_env=False,
    )
    diff = build_lineage_diff(
        artifacts.base_manifest,
        artifacts.base_catalog,
        artifacts.current_manifest,
        artifacts.current_catalog,
    )
    return build_summary(diff, [], [], cll=summary_cll(artifacts, diff))


def _row(text: str, name: str) -> list[str]:
    section = text.split("## Change Analysis", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == name:
            return cells
    raise AssertionError(f"no row for {name} in:\n{section}")


def test_each_modified_model_has_its_category_and_impact() -> None:
    text = _demo_summary()
    assert "## Change Analysis (3 modified)" in text
    name, category, columns, impact = _row(text, "orders")
    assert category.endswith("partial breaking")
    assert columns == "~amount, +is_returned"
    # orders.amount feeds order_revenue.revenue and customers.lifetime_value downstream
    assert "order_revenue (revenue)" in impact
    assert "customers (lifetime_value)" in impact
    assert "daily_orders" not in impact  # it counts orders, not amounts: not impacted
    assert _row(text, "customers")[3] == "customer_segments (lifetime_value, segment)"


def test_without_column_lineage_the_section_is_left_out() -> None:
    diff = build_lineage_diff(
        read_manifest(DEMO_DIR / "target-base" / "manifest.json"),
        None,
        read_manifest(DEMO_DIR / "target" / "manifest.json"),
        None,
    )
    text = build_summary(diff, [], [])
    assert "## Changed Models" in text and "## Change Analysis" not in text
