"""``cll_json``: the JSON the server sends for ``/api/cll`` is ``cll_data``'s answer, key
order of each node's columns included, whether it is joined from the encoded pieces
(``prepare``) or encoded from ``cll_data``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.cll.api import CllProject, CllRequestError, cll_data
from recce_trio.core.cll.wire import cll_json, prepare, prepared
from tests.unit import factories as f
from tests.unit.test_cll_api import CUS, ORD, SEG, SRC, STG, _model, _project

FLAG_SETS: list[dict[str, bool]] = [
    {},
    {"no_upstream": True},
    {"no_downstream": True},
    {"no_upstream": True, "no_downstream": True},
]


def _same(project: CllProject, **params: Any) -> None:
    sent = msgspec.json.decode(cll_json(project, **params))
    expected = cll_data(project, **params)
    assert sent == {"current": expected}
    # The UI lists a node's columns in the object's order.
    for uid, node in expected["nodes"].items():
        assert list(sent["current"]["nodes"][uid]["columns"]) == list(node["columns"])
    assert list(sent["current"]["columns"]) == list(expected["columns"])


def _generated(root: Path) -> CllProject:
    return CllProject(
        read_manifest(root / "target-base" / "manifest.json"),
        read_catalog(root / "target-base" / "catalog.json"),
        read_manifest(root / "target" / "manifest.json"),
        read_catalog(root / "target" / "catalog.json"),
    )


def test_pieces_are_made_once_the_whole_map_is_built() -> None:
    project = _project()
    assert prepare(project) is None  # no edge index yet: answers come from cll_data
    assert cll_json(project, node_id=ORD) == msgspec.json.encode(
        {"current": cll_data(project, node_id=ORD)}
    )
    project.full_map()
    index = prepare(project)
    assert index is not None and prepared(project) is index
    assert prepare(project) is index  # once per project


def test_a_node_answer_is_joined_from_the_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project()
    project.full_map()
    prepare(project)
    expected = {"current": cll_data(project, node_id=ORD)}

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("cll_data was asked")

    monkeypatch.setattr("recce_trio.core.cll.wire.cll_data", refuse)
    assert msgspec.json.decode(cll_json(project, node_id=ORD)) == expected


@pytest.mark.parametrize("flags", FLAG_SETS)
def test_every_node_and_column_of_a_small_project(flags: dict[str, bool]) -> None:
    project = _project()
    project.full_map()
    prepare(project)
    for uid in (SRC, STG, ORD, CUS, SEG):
        _same(project, node_id=uid, **flags)
        for name in project.current.columns(uid):
            _same(project, node_id=uid, column=name, **flags)
    # What the pieces do not answer is cll_data's answer, encoded.
    _same(project, **flags)
    _same(project, node_id=ORD, change_analysis=True, **flags)
    _same(project, node_id=CUS, no_cll=True, **flags)
    _same(project, node_id=ORD, column="no_such_column", **flags)


def test_every_node_of_a_generated_project(generated: tuple[Path, dict[str, Any]]) -> None:
    project = _generated(generated[0])
    project.full_map()
    prepare(project)
    nodes = sorted(project.graph()[0])
    assert len(nodes) > 60
    for uid in nodes:
        for flags in FLAG_SETS[:2]:
            _same(project, node_id=uid, **flags)
    for uid in nodes[::7]:
        for name in list(project.current.columns(uid))[:3]:
            _same(project, node_id=uid, column=name)


def test_a_column_id_that_two_nodes_spell_the_same() -> None:
    # "model.shop.a_b" + "_c" and "model.shop.a" + "_b_c" are both "model.shop.a_b_c": the
    # column belongs to the longest node id (as in cll_data).
    short, long_ = "model.shop.a", "model.shop.a_b"
    src = f.source("raw", "orders")
    manifest = f.manifest(
        src,
        _model("a", "select id as b_c from raw.orders", [SRC]),
        _model("a_b", "select b_c as c from main.a", [short]),
    )
    catalog = f.catalog({short: [("b_c", "INTEGER")], long_: [("c", "INTEGER")]}, {SRC: []})
    project = CllProject(manifest, catalog, manifest, catalog, changes={})
    project.full_map()
    index = prepare(project)
    assert index is not None and not index.regular  # "a"'s column is "a_b"'s
    for uid in (short, long_):
        _same(project, node_id=uid)
    _same(project, node_id=short, column="b_c")


def test_an_edge_outside_the_lineage_graph_still_gives_cll_datas_answer() -> None:
    # "b" reads "a"'s table without a ref (so "a" is not its parent in the lineage graph):
    # the index is not regular, and the answers check Recce's pool as cll_data does.
    src = f.source("raw", "orders")
    manifest = f.manifest(
        src,
        _model("a", "select id from raw.orders", [SRC]),
        _model("b", "select o.id, a.id as other from raw.orders o join main.a on true", [SRC]),
    )
    catalog = f.catalog(
        {
            "model.shop.a": [("id", "INTEGER")],
            "model.shop.b": [("id", "INTEGER"), ("other", "INTEGER")],
        },
        {SRC: [("id", "INTEGER")]},
    )
    project = CllProject(manifest, catalog, manifest, catalog, changes={})
    project.full_map()
    index = prepare(project)
    assert index is not None and not index.regular
    assert cll_data(project, node_id="model.shop.b")["parent_map"]["model.shop.b_other"] == [
        "model.shop.a_id"
    ]
    for uid in (SRC, "model.shop.a", "model.shop.b"):
        for flags in FLAG_SETS:
            _same(project, node_id=uid, **flags)
    _same(project, node_id="model.shop.b", column="other")


def test_answers_skip_the_pool_walk_only_over_a_regular_index(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    # Every edge follows the lineage graph in these projects (``_regular``).
    for project in (_project(), _generated(generated[0])):
        project.full_map()
        index = prepare(project)
        assert index is not None and index.regular


def test_mistakes_are_refused_as_cll_data_refuses_them() -> None:
    project = _project()
    project.full_map()
    prepare(project)
    with pytest.raises(CllRequestError):
        cll_json(project, node_id="model.shop.nowhere")
    with pytest.raises(CllRequestError):
        cll_json(project, column="amount")
