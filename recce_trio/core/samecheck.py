"""dbt-core 1.11's ``same_*`` node comparisons (``contracts/graph/nodes.py``), on the records.

``new`` is the current node, ``old`` the base one; ``kind`` says which dbt class applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recce_trio.core.artifacts.records import TEST_CONFIG_MODIFIERS, Node

# Where a unique_id lives decides which dbt class (and so which same_* methods) applies.
NODE, SOURCE, EXPOSURE, METRIC, SEMANTIC_MODEL, SAVED_QUERY, UNIT_TEST = (
    "node",
    "source",
    "exposure",
    "metric",
    "semantic_model",
    "saved_query",
    "unit_test",
)

# Config fields dbt leaves out of same_config (CompareBehavior.Exclude), per config class.
_NODE_CONFIG_EXCLUDED = frozenset({"alias", "schema", "database", "tags", "group"})
_METRIC_CONFIG_EXCLUDED = frozenset({"group"})
_NOTHING = frozenset[str]()
_TEST_CONFIG_MODIFIERS = TEST_CONFIG_MODIFIERS


def same_contents(kind: str, new: Node, old: Node) -> bool:
    if kind == NODE:
        if new.resource_type == "test" and new.test_metadata is not None:
            # GenericTestNode.same_contents
            return same_config(kind, new, old) and new.fqn == old.fqn
        same = (
            same_body(kind, new, old)
            and same_config(kind, new, old)
            and same_persisted_description(kind, new, old)
            and new.fqn == old.fqn
            and same_database_representation(kind, new, old)
            and same_contract(new, old)
        )
        if new.resource_type == "model":
            # ModelNode.same_ref_representation
            same = (
                same
                and new.latest_version == old.latest_version
                and new.access == old.access
                and new.deprecation_date == old.deprecation_date
            )
        return same
    if kind == SOURCE:
        return (
            same_database_representation(kind, new, old)
            and new.fqn == old.fqn
            and same_config(kind, new, old)
            and new.quoting == old.quoting
            and new.freshness == old.freshness
            and new.loaded_at_field == old.loaded_at_field
            and new.external == old.external
        )
    if kind == EXPOSURE:
        return (
            new.fqn == old.fqn
            and new.type == old.type
            and new.owner == old.owner
            and new.maturity == old.maturity
            and new.url == old.url
            and new.description == old.description
            and new.label == old.label
            and set(new.depends_on.nodes) == set(old.depends_on.nodes)
            and same_config(kind, new, old)
        )
    if kind == METRIC:
        # dbt leaves filter, metadata and type_params as TODO (always the same).
        return (
            new.type == old.type
            and new.description == old.description
            and new.label == old.label
            and same_config(kind, new, old)
        )
    if kind == SEMANTIC_MODEL:
        return (
            new.model == old.model
            and new.description == old.description
            and new.defaults == old.defaults
            and new.entities == old.entities
            and new.dimensions == old.dimensions
            and new.measures == old.measures
            and new.config == old.config
            and new.primary_entity == old.primary_entity
            and new.group == old.group
        )
    if kind == SAVED_QUERY:
        new_params = new.query_params or {}
        old_params = old.query_params or {}
        return (
            all(new_params.get(k) == old_params.get(k) for k in ("metrics", "group_by", "where"))
            and new.description == old.description
            and new.label == old.label
            and new.config == old.config
            and new.group == old.group
            and _same_exports(new.exports, old.exports)
            and new.tags == old.tags
        )
    if kind == UNIT_TEST:
        return new.checksum == old.checksum
    return True


def same_body(kind: str, new: Node, old: Node) -> bool:
    if new.resource_type == "seed":
        # SeedNode.same_seeds: compare checksums, whatever their kind. A seed over dbt's size
        # limit has a "path" checksum, so only a move/rename of the file shows as a change.
        return new.checksum == old.checksum
    return new.raw_code == old.raw_code


def same_config(kind: str, new: Node, old: Node) -> bool:
    if kind in (SEMANTIC_MODEL, SAVED_QUERY):
        return new.config == old.config
    mine, others = new.unrendered_config, old.unrendered_config
    if mine == others:  # most nodes: equal dicts agree on every key, whichever are compared
        return True
    if kind == NODE and new.resource_type == "test":
        return all(_compare_key(mine, others, key) for key in _TEST_CONFIG_MODIFIERS)
    if kind == NODE:
        excluded = _NODE_CONFIG_EXCLUDED
    elif kind == METRIC:
        excluded = _METRIC_CONFIG_EXCLUDED
    else:
        excluded = _NOTHING
    return all(
        _compare_key(mine, others, key)
        for key in mine.keys() | others.keys()
        if key not in excluded
    )


def same_persisted_description(kind: str, new: Node, old: Node) -> bool:
    if new.resource_type == "test":
        return True  # TestConfig has no persist_docs
    persist_docs = new.config.get("persist_docs") or {}
    if not isinstance(persist_docs, Mapping):
        return True
    if persist_docs.get("relation") and new.description != old.description:
        return False
    if persist_docs.get("columns"):
        mine = {name: col.description for name, col in new.columns.items()}
        others = {name: col.description for name, col in old.columns.items()}
        if mine != others:
            return False
    return True


def same_database_representation(kind: str, new: Node, old: Node) -> bool:
    if kind == SOURCE:
        return (
            new.unrendered_database == old.unrendered_database
            and new.unrendered_schema == old.unrendered_schema
            and new.identifier == old.identifier
        )
    mine, others = new.unrendered_config, old.unrendered_config
    return all(mine.get(key) == others.get(key) for key in ("database", "schema", "alias"))


def same_contract(new: Node, old: Node) -> bool:
    """ModelNode.same_contract (other nodes: always the same). Breaking changes, which dbt
    warns about or raises for versioned models, count simply as a change here."""
    if new.resource_type != "model":
        return True
    old_enforced, _ = contract_terms(old)
    new_enforced, new_checksum = contract_terms(new)
    if not old_enforced and not new_enforced:
        return True
    if not old_enforced and new_enforced:
        return False
    return new_enforced and new_checksum == contract_terms(old)[1]


SAME_METHODS = {
    "same_body": same_body,
    "same_config": same_config,
    "same_persisted_description": same_persisted_description,
    "same_database_representation": same_database_representation,
}


def contract_terms(node: Node) -> tuple[bool, Any]:
    """What ``same_contract`` reads of a node's contract: whether it is enforced, its checksum."""
    contract = node.contract
    if isinstance(contract, Mapping):
        return contract.get("enforced") is True, contract.get("checksum")
    return contract is True, None


def _compare_key(mine: Mapping[str, Any], others: Mapping[str, Any], key: str) -> bool:
    # BaseConfig.compare_key: a key set on one side only is a change, even if set to null.
    if key not in mine:
        return key not in others
    return key in others and bool(mine[key] == others[key])


def _same_exports(new: list[Any], old: list[Any]) -> bool:
    if len(new) != len(old):
        return False
    for old_export, new_export in zip(old, new, strict=True):
        if not isinstance(old_export, Mapping) or not isinstance(new_export, Mapping):
            if old_export != new_export:
                return False
            continue
        if old_export.get("name") != new_export.get("name"):
            return False
        old_cfg = old_export.get("unrendered_config") or {}
        new_cfg = new_export.get("unrendered_config") or {}
        if any(old_cfg.get(k) != new_cfg.get(k) for k in ("export_as", "schema", "alias")):
            return False
    return True
