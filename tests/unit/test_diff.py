"""dbt's state:modified rules (dbt-core 1.11) and Recce's LineageDiff."""

from __future__ import annotations

import pytest

from recce_trio.core.artifacts.records import Checksum
from recce_trio.core.diff import build_lineage_diff, column_changes
from recce_trio.core.state_rules import StateComparison
from tests.unit.factories import (
    catalog,
    column,
    exposure,
    generic_test,
    macro,
    manifest,
    metric,
    model,
    replace,
    seed,
    semantic_model,
    singular_test,
    snapshot,
    source,
    unit_test,
)

SUBS = ("body", "configs", "relation", "persisted_descriptions", "contract", "macros")


def modified_nodes(base, current, *, sub=None):
    """What ``dbt ls --select state:modified[.<sub>] --state <base>`` lists: current
    unique_ids only, as dbt never selects deleted nodes."""
    check = "modified" if sub is None else f"modified.{sub}"
    return set(StateComparison(base, current).select(check))


ORDERS = model(
    "orders", "select * from {{ ref('stg') }}", unrendered_config={"materialized": "view"}
)


def checks(base_node, current_node, *, base_macros=(), current_macros=()):
    """{"modified": bool, "body": bool, ...} for one node changed from base to current."""
    base = manifest(base_node, macros=base_macros)
    current = manifest(current_node, macros=current_macros)
    uid = current_node.unique_id
    answers = {"modified": uid in modified_nodes(base, current)}
    for sub in SUBS:
        answers[sub] = uid in modified_nodes(base, current, sub=sub)
    return {name for name, hit in answers.items() if hit}


def test_unchanged_node_is_not_modified():
    assert checks(ORDERS, ORDERS) == set()


def test_sql_change_is_body():
    assert checks(ORDERS, replace(ORDERS, raw_code="select 2")) == {"modified", "body"}


def test_whitespace_in_sql_is_a_change():
    changed = replace(ORDERS, raw_code=ORDERS.raw_code + "\n")
    assert checks(ORDERS, changed) == {"modified", "body"}


def test_unrendered_config_change_is_configs():
    changed = replace(ORDERS, unrendered_config={"materialized": "table"})
    assert checks(ORDERS, changed) == {"modified", "configs"}


def test_rendered_config_alone_is_not_a_change():
    # e.g. a target-dependent value: dbt compares the unrendered config only
    changed = replace(ORDERS, config={**ORDERS.config, "materialized": "table"})
    assert checks(ORDERS, changed) == set()


def test_config_key_added_even_as_null_is_a_change():
    changed = replace(ORDERS, unrendered_config={"materialized": "view", "unique_key": None})
    assert checks(ORDERS, changed) == {"modified", "configs"}


@pytest.mark.parametrize("key", ["tags", "group"])
def test_excluded_config_keys_are_not_compared(key):
    changed = replace(ORDERS, unrendered_config={"materialized": "view", key: ["x"]})
    assert checks(ORDERS, changed) == set()


@pytest.mark.parametrize("key", ["schema", "database", "alias"])
def test_relation_keys_are_relation_not_configs(key):
    changed = replace(ORDERS, unrendered_config={"materialized": "view", key: "other"})
    assert checks(ORDERS, changed) == {"modified", "relation"}


def test_description_is_ignored_without_persist_docs():
    changed = replace(ORDERS, description="new words")
    assert checks(ORDERS, changed) == set()


def test_description_counts_with_persist_docs_relation():
    base = replace(ORDERS, config={**ORDERS.config, "persist_docs": {"relation": True}})
    assert checks(base, replace(base, description="new")) == {"modified", "persisted_descriptions"}


def test_column_description_counts_with_persist_docs_columns():
    config = {**ORDERS.config, "persist_docs": {"columns": True}}
    base = replace(ORDERS, config=config, columns={"id": column("id", "old")})
    changed = replace(base, columns={"id": column("id", "new")})
    assert checks(base, changed) == {"modified", "persisted_descriptions"}
    # relation docs are not persisted here, so the model description does not count
    assert checks(base, replace(base, description="new")) == set()


def test_moved_file_changes_fqn_only():
    changed = replace(ORDERS, fqn=["shop", "marts", "orders"])
    assert checks(ORDERS, changed) == {"modified"}


@pytest.mark.parametrize(
    "field, value",
    [("access", "public"), ("latest_version", 2), ("deprecation_date", "2030-01-01")],
)
def test_model_ref_representation(field, value):
    assert checks(ORDERS, replace(ORDERS, **{field: value})) == {"modified"}


def test_contract_newly_enforced():
    changed = replace(ORDERS, contract={"enforced": True, "checksum": "c1"})
    assert checks(ORDERS, changed) == {"modified", "contract"}


def test_contract_checksum_change_and_no_change():
    base = replace(ORDERS, contract={"enforced": True, "checksum": "c1"})
    assert checks(base, replace(base, contract={"enforced": True, "checksum": "c2"})) == {
        "modified",
        "contract",
    }
    assert checks(base, base) == set()
    # enforcement removed: a breaking change, reported as modified
    assert "contract" in checks(base, replace(base, contract={"enforced": False}))


def test_contract_checksum_without_enforcement_is_not_compared():
    base = replace(ORDERS, contract={"enforced": False, "checksum": "c1"})
    assert checks(base, replace(base, contract={"enforced": False, "checksum": "c2"})) == set()


def test_seed_compares_file_checksum_not_raw_code():
    base = seed("countries", "abc")
    assert checks(base, replace(base, raw_code="whatever")) == set()
    assert checks(base, replace(base, checksum=Checksum("sha256", "def"))) == {"modified", "body"}


def test_large_seed_path_checksum():
    # Seeds over dbt's size limit get checksum {"name": "path", "checksum": <path>}:
    # unchanged path means "same" even if the content changed; moving the file is a change.
    base = replace(seed("big"), checksum=Checksum("path", "seeds/big.csv"))
    assert checks(base, base) == set()
    moved = replace(base, checksum=Checksum("path", "seeds/x/big.csv"))
    assert checks(base, moved) == {"modified", "body"}
    grew = replace(seed("big"), checksum=Checksum("sha256", "abc"))
    assert checks(grew, base) == {"modified", "body"}


def test_snapshot_follows_node_rules():
    base = snapshot("snap", unrendered_config={"strategy": "timestamp"})
    assert checks(base, replace(base, unrendered_config={"strategy": "check"})) == {
        "modified",
        "configs",
    }


def test_generic_test_compares_only_modifier_config_and_fqn():
    base = generic_test("not_null", ORDERS, "id", unrendered_config={"severity": "error"})
    assert checks(base, replace(base, unrendered_config={"severity": "warn"})) == {
        "modified",
        "configs",
    }
    # other config keys and the compiled SQL do not make a generic test modified
    other = replace(base, unrendered_config={"severity": "error", "tags": ["a"], "meta": {}})
    assert checks(base, other) == set()
    assert checks(base, replace(base, raw_code="changed")) == {"body"}


def test_singular_test_compares_its_sql():
    base = singular_test("assert_positive", "select 1", [ORDERS.unique_id])
    assert checks(base, replace(base, raw_code="select 2")) == {"modified", "body"}


def test_macro_change_marks_direct_and_transitive_users():
    inner, outer = macro("inner", "a"), macro("outer", "b", calls=["macro.shop.inner"])
    direct = model("orders", macros=["macro.shop.inner"])
    indirect = model("other", macros=["macro.shop.outer"])
    untouched = model("plain")
    base = manifest(direct, indirect, untouched, macros=[inner, outer])
    current = manifest(direct, indirect, untouched, macros=[macro("inner", "changed"), outer])
    expected = {direct.unique_id, indirect.unique_id}
    assert modified_nodes(base, current) == expected
    assert modified_nodes(base, current, sub="macros") == expected
    assert modified_nodes(base, current, sub="body") == set()


def test_new_macro_unused_changes_nothing():
    base = manifest(ORDERS)
    current = manifest(ORDERS, macros=[macro("fresh")])
    assert modified_nodes(base, current) == set()


def test_new_nodes_are_new_and_modified_but_new_sources_are_only_new():
    new_model, new_source = model("fresh"), source("raw", "events")
    base = manifest(ORDERS)
    current = manifest(ORDERS, new_model, new_source)
    assert set(StateComparison(base, current).select("new")) == {
        new_model.unique_id,
        new_source.unique_id,
    }
    assert modified_nodes(base, current) == {new_model.unique_id}
    # every sub-selector with a same_* method selects new nodes; sources lack same_body
    assert modified_nodes(base, current, sub="body") == {new_model.unique_id}
    assert modified_nodes(base, current, sub="relation") == {
        new_model.unique_id,
        new_source.unique_id,
    }
    assert modified_nodes(base, current, sub="contract") == {new_model.unique_id}
    assert modified_nodes(base, current, sub="macros") == set()


def test_new_unit_test_is_modified():
    current = manifest(ORDERS, unit_test("t", ORDERS))
    assert modified_nodes(manifest(ORDERS), current) == {"unit_test.shop.orders.t"}


def test_unit_test_checksum_change():
    base = unit_test("t", ORDERS, "a")
    assert checks(base, replace(base, checksum=Checksum("sha256", "b"))) == {"modified"}


def test_removed_nodes_are_not_selected_by_dbt():
    gone = model("gone")
    base, current = manifest(ORDERS, gone), manifest(ORDERS)
    assert modified_nodes(base, current) == set()
    assert set(StateComparison(base, current).removed) == {gone.unique_id}
    # recce-trio (like Recce's merged manifest) selects them
    assert gone.unique_id in StateComparison(base, current).select("modified", include_removed=True)


@pytest.mark.parametrize(
    "field, value",
    [
        ("freshness", {"warn_after": {"count": 1, "period": "day"}}),
        ("loaded_at_field", "_loaded_at"),
        ("quoting", {"database": None, "schema": None, "identifier": True}),
        ("external", {"location": "s3://x"}),
        ("fqn", ["shop", "other", "raw", "orders"]),
        ("unrendered_config", {"enabled": True}),
    ],
)
def test_source_changes(field, value):
    base = source("raw", "orders")
    assert "modified" in checks(base, replace(base, **{field: value}))


def test_source_relation_uses_unrendered_database_and_schema():
    base = source("raw", "orders", unrendered_schema="{{ env_var('S') }}")
    assert checks(base, replace(base, unrendered_schema="raw")) == {"modified", "relation"}
    assert checks(base, replace(base, identifier="orders_v2")) == {"modified", "relation"}
    # the rendered schema (target-dependent) is not compared
    assert checks(base, replace(base, schema="ci_raw")) == set()


def test_source_description_tags_meta_are_not_changes():
    base = source("raw", "orders")
    changed = replace(base, description="d", tags=["x"], meta={"a": 1})
    assert checks(base, changed) == set()


@pytest.mark.parametrize(
    "field, value",
    [
        ("owner", {"email": "b@example.com", "name": "B"}),
        ("url", "https://x"),
        ("description", "d"),
        ("label", "L"),
        ("maturity", "high"),
        ("type", "notebook"),
    ],
)
def test_exposure_changes(field, value):
    base = exposure("dash", [ORDERS.unique_id])
    assert checks(base, replace(base, **{field: value})) == {"modified"}


def test_exposure_depends_on_is_compared_as_a_set():
    base = exposure("dash", ["model.shop.a", "model.shop.b"])

    def with_parents(*parents):
        return replace(base, depends_on=replace(base.depends_on, nodes=list(parents)))

    assert checks(base, with_parents("model.shop.b", "model.shop.a")) == set()
    assert checks(base, with_parents("model.shop.a")) == {"modified"}


def test_exposure_tags_are_not_changes():
    base = exposure("dash", [ORDERS.unique_id])
    assert checks(base, replace(base, tags=["t"])) == set()


def test_metric_rules():
    base = metric("revenue", unrendered_config={"meta": {}})
    assert checks(base, replace(base, description="d")) == {"modified"}
    assert checks(base, replace(base, unrendered_config={"meta": {}, "group": "g"})) == set()
    assert checks(base, replace(base, unrendered_config={"meta": {"x": 1}})) == {
        "modified",
        "configs",
    }


def test_semantic_model_rules():
    base = semantic_model("orders_sm", ORDERS)
    assert checks(base, replace(base, entities=[{"name": "id", "type": "foreign"}])) == {"modified"}
    assert checks(base, replace(base, description="d")) == {"modified"}
    assert checks(base, replace(base, meta={"x": 1})) == set()


# ---- LineageDiff ----


def test_lineage_diff_statuses_including_removed_sources_exposures_metrics_seeds():
    stg = model("stg")
    orders = model("orders", "select * from stg", parents=[stg.unique_id])
    old_source, new_source = source("raw", "old"), source("raw", "new")
    old_exposure, old_metric = exposure("dash", [orders.unique_id]), metric("m")
    old_seed = seed("s")
    added = model("added")
    base = manifest(stg, orders, old_source, old_exposure, old_metric, old_seed)
    current = manifest(stg, replace(orders, raw_code="select 2"), new_source, added)
    result = build_lineage_diff(base, None, current, None)
    assert {uid: d["change_status"] for uid, d in result.diff.items()} == {
        orders.unique_id: "modified",
        added.unique_id: "added",
        new_source.unique_id: "added",
        old_source.unique_id: "removed",
        old_exposure.unique_id: "removed",
        old_metric.unique_id: "removed",
        old_seed.unique_id: "removed",
    }
    assert result.diff[added.unique_id]["change"] is None
    assert result.diff[orders.unique_id]["change"] == {"category": "unknown", "columns": None}
    assert set(result.to_builtins()) == {"base", "current", "diff"}


def test_lineage_diff_skips_tests_and_other_packages():
    pkg_model = model("util", package="pkg")
    test = generic_test("not_null", ORDERS, "id", unrendered_config={"severity": "error"})
    base = manifest(ORDERS, pkg_model, test)
    current = manifest(
        ORDERS, replace(pkg_model, raw_code="select 9"),
        replace(test, unrendered_config={"severity": "warn"}),
    )  # fmt: skip
    assert build_lineage_diff(base, None, current, None).diff == {}


def test_lineage_diff_column_changes_from_catalogs():
    changed = replace(ORDERS, raw_code="select 2")
    base_catalog = catalog({ORDERS.unique_id: [("id", "int"), ("gone", "text"), ("amt", "int")]})
    current_catalog = catalog({ORDERS.unique_id: [("id", "int"), ("amt", "numeric"), ("new", "t")]})
    result = build_lineage_diff(manifest(ORDERS), base_catalog, manifest(changed), current_catalog)
    assert result.diff[ORDERS.unique_id]["change"] == {
        "category": "unknown",
        "columns": {"amt": "modified", "new": "added", "gone": "removed"},
    }


def test_column_changes_needs_both_sides():
    assert column_changes(None, None) is None
    same = catalog({"m": [("a", "int")]}).nodes["m"]
    assert column_changes(same, same) == {}
