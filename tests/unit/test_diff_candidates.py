"""The diff works out state:modified for the lineage's nodes only; it must agree with the full
selector (``SelectionGraph.select``) on every project we have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recce_trio.core.artifacts import read_manifest
from recce_trio.core.diff import modified_lineage_nodes
from recce_trio.core.lineage import LineageNodes
from recce_trio.core.selector import SelectionGraph
from recce_trio.core.state_rules import StateComparison
from tests.conftest import CORPUS
from tests.unit import factories as f


def agree(base_path: Path, current_path: Path) -> set[str]:
    base, current = read_manifest(base_path), read_manifest(current_path)
    project = current.metadata.project_name or base.metadata.project_name
    ids = set(LineageNodes(base, None)) | set(LineageNodes(current, None))
    state = StateComparison(base, current)
    fast = modified_lineage_nodes(state, ids, project)
    graph = SelectionGraph(base, current)
    full = graph.select(select="state:modified", packages=[project] if project else None)
    assert fast == full & ids
    # The graph built later over the same comparison answers the same.
    shared = SelectionGraph(base, current, state=state)
    assert shared.select(select="state:modified", packages=[project] if project else None) == full
    return fast


def test_generated_project(generated: tuple[Path, dict[str, Any]]) -> None:
    root, summary = generated
    found = agree(root / "target-base/manifest.json", root / "target/manifest.json")
    assert set(summary["modified"]["raw_code"]) <= found
    assert set(summary["removed"]) <= found


def test_disabled_empty_and_foreign_package_nodes_are_left_out() -> None:
    changed = f.model("changed", "select 2")
    disabled = f.model("off", "select 2", config={"enabled": False})
    empty = f.model("blank", "  ")
    foreign = f.model("pkg_model", "select 2", package="other")
    base = f.manifest(
        f.model("changed"),
        f.model("off"),
        f.model("blank", "select 1"),
        f.model("pkg_model", package="other"),
    )
    current = f.manifest(changed, disabled, empty, foreign)
    state = StateComparison(base, current)
    ids = set(LineageNodes(base, None)) | set(LineageNodes(current, None))
    assert modified_lineage_nodes(state, ids, "shop") == {changed.unique_id}
    assert modified_lineage_nodes(state, ids, "sh*") == {changed.unique_id}


CORPUS_PAIRS = sorted(p.parent.parent for p in CORPUS.glob("*/base/manifest.json"))


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("folder", CORPUS_PAIRS, ids=lambda p: p.name)
def test_corpus_pairs(folder: Path) -> None:
    agree(folder / "base" / "manifest.json", folder / "manifest.json")
