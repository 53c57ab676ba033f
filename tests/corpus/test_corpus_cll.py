"""Column-level lineage and change analysis over every model of the shared corpus: each column
has a lineage or the node says why not, and nothing raises.

The coverage (share of columns with a known lineage) of each set is printed (``pytest -s``)
and kept as the ``cll_coverage`` property of each test (``--junitxml``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.artifacts.records import Catalog
from recce_trio.core.cll.api import CllProject, cll_data
from recce_trio.core.cll.project import count_known

pytestmark = pytest.mark.corpus
KINDS = {"source", "passthrough", "renamed", "derived", "unknown"}
CATEGORIES = {"breaking", "partial_breaking", "non_breaking", "unknown"}
# Sets whose compiled SQL sqlglot reads well: a floor under today's coverage, so that a
# regression in the analysis shows (measured coverage minus a margin).
FLOORS = {
    "Aidbox__dbt-sample-project": 0.97,
    "fivetran__dbt_ad_reporting": 0.97,
    "fivetran__dbt_hubspot": 0.97,
    "fivetran__dbt_netsuite__v12-1.11": 0.97,
    "fivetran__dbt_shopify": 0.97,
    "fivetran__dbt_jira": 0.95,
    "FlipsideCrypto__terra-models": 0.95,
    "MetricsDAO__harmony_dbt": 0.95,
    "CentricaGroupDataAI__energy-model-tests": 0.95,
    "doriwilson__recce-super-demo": 0.95,
}


def _corpus() -> Path | None:
    # Beside the repository (CI), or beside a parent folder (a git worktree of it).
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "corpus" / "dbt-artifacts"
        if candidate.is_dir():
            return candidate
    return None


def corpus_sets(*, with_base: bool) -> list[Any]:
    root = _corpus()
    if root is None:
        reason = "corpus not found (it lives beside the repository in shared/)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    folders = sorted(p.parent for p in root.glob("*/manifest.json"))
    if with_base:
        folders = [f for f in folders if (f / "base" / "manifest.json").is_file()]
    return [pytest.param(f, id=f.name) for f in folders]


def _catalog(folder: Path) -> Catalog | None:
    path = folder / "catalog.json"
    return read_catalog(path) if path.is_file() else None


@pytest.mark.parametrize("folder", corpus_sets(with_base=False))
def test_every_model_has_lineage_or_a_reason(
    folder: Path, record_property: Callable[[str, object], None]
) -> None:
    manifest, catalog = read_manifest(folder / "manifest.json"), _catalog(folder)
    project = CllProject(manifest, catalog, manifest, catalog, changes={})
    full = project.full_map()
    relations = set(manifest.nodes) | set(manifest.sources)
    for uid, entry in full.items():
        for col in entry.columns.values():
            assert col.kind in KINDS, (uid, col)
            assert {p for p, _ in col.parents} <= relations, (uid, col)
        node = manifest.nodes.get(uid)
        if node is None or node.resource_type not in ("model", "snapshot"):
            continue
        known = [c for c in entry.columns.values() if c.kind != "unknown"]
        if entry.columns and not known:
            assert entry.reason, uid
    known, total = count_known(full)
    coverage = known / total if total else 1.0
    record_property("cll_coverage", f"{known}/{total}")
    print(f"\nCLL coverage {folder.name}: {known}/{total} columns = {coverage:.1%}")
    floor = FLOORS.get(folder.name)
    if floor is not None:
        assert coverage >= floor, f"{folder.name}: {coverage:.1%} < {floor:.0%}"
    # The whole-project CllData encodes; every column id has its node.
    data = cll_data(project, node_id=next(iter(full))) if full else None
    if data is not None:
        for cid, col in data["columns"].items():
            assert cid == f"{col['table_id']}_{col['name']}"


@pytest.mark.parametrize("folder", corpus_sets(with_base=True))
def test_change_analysis_of_every_modified_node(folder: Path) -> None:
    base = read_manifest(folder / "base/manifest.json")
    current = read_manifest(folder / "manifest.json")
    project = CllProject(base, _catalog(folder / "base"), current, _catalog(folder))
    modified = [uid for uid, status in project.changes.items() if status == "modified"]
    seen: dict[str, int] = {}
    for uid in modified:
        result = project.change(uid)
        assert result is not None and result.category in CATEGORIES, uid
        seen[result.category] = seen.get(result.category, 0) + 1
        if result.category == "unknown":
            assert result.reason, uid
        else:
            assert result.columns is not None
    print(f"\nchange categories {folder.name}: {dict(sorted(seen.items()))}")
    data = cll_data(project, change_analysis=True, no_upstream=True)
    for uid in modified:
        if uid in data["nodes"]:
            assert data["nodes"][uid]["change_category"] in CATEGORIES
