"""Tiny builders of manifest and catalog records for the pure-domain tests.

Each builder returns a ``Node`` shaped as dbt-core 1.11 writes it (manifest v12), with only the
fields the tests care about; ``replace(node, ...)`` makes the "current" variant of a base node.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from recce_trio.core.artifacts.records import (
    Catalog,
    CatalogColumn,
    CatalogTable,
    Checksum,
    ColumnInfo,
    DependsOn,
    Macro,
    Manifest,
    ManifestMetadata,
    Node,
    TestMetadata,
)

PROJECT = "shop"


def replace(node: Node, **changes: Any) -> Node:
    return msgspec.structs.replace(node, **changes)


def model(
    name: str,
    sql: str = "select 1 as id",
    *,
    package: str = PROJECT,
    parents: Iterable[str] = (),
    macros: Iterable[str] = (),
    folder: str = "staging",
    config: dict[str, Any] | None = None,
    unrendered_config: dict[str, Any] | None = None,
    resource_type: str = "model",
    **fields: Any,
) -> Node:
    prefix = {"model": "models", "snapshot": "snapshots", "analysis": "analyses"}[resource_type]
    fields.setdefault("fqn", [package, *folder.split("/"), name])
    fields.setdefault("original_file_path", f"{prefix}/{folder}/{name}.sql")
    fields.setdefault("access", "protected" if resource_type == "model" else None)
    return Node(
        unique_id=f"{resource_type}.{package}.{name}",
        resource_type=resource_type,
        name=name,
        package_name=package,
        path=f"{folder}/{name}.sql",
        schema="main",
        alias=name,
        config={"enabled": True, "materialized": "view", "tags": [], **(config or {})},
        unrendered_config=dict(unrendered_config or {}),
        checksum=Checksum("sha256", str(hash(sql))),
        raw_code=sql,
        language="sql",
        depends_on=DependsOn(nodes=list(parents), macros=list(macros)),
        contract={"enforced": False, "alias_types": True, "checksum": None},
        **fields,
    )


def snapshot(name: str, sql: str = "select 1 as id", **kwargs: Any) -> Node:
    kwargs.setdefault("folder", "snaps")
    return model(name, sql, resource_type="snapshot", **kwargs)


def seed(name: str, checksum: str = "abc", *, package: str = PROJECT, **fields: Any) -> Node:
    fields.setdefault("fqn", [package, name])
    return Node(
        unique_id=f"seed.{package}.{name}",
        resource_type="seed",
        name=name,
        package_name=package,
        path=f"{name}.csv",
        original_file_path=f"seeds/{name}.csv",
        schema="main",
        config={"enabled": True, "materialized": "seed"},
        checksum=Checksum("sha256", checksum),
        raw_code="",
        **fields,
    )


def source(source_name: str, name: str, *, package: str = PROJECT, **fields: Any) -> Node:
    fields.setdefault("fqn", [package, "staging", source_name, name])
    fields.setdefault("config", {"enabled": True})
    fields.setdefault("quoting", {"database": None, "schema": None, "identifier": None})
    fields.setdefault("freshness", {"warn_after": {"count": None, "period": None}})
    return Node(
        unique_id=f"source.{package}.{source_name}.{name}",
        resource_type="source",
        name=name,
        source_name=source_name,
        package_name=package,
        path="models/staging/sources.yml",
        original_file_path="models/staging/sources.yml",
        schema="raw",
        identifier=name,
        **fields,
    )


def generic_test(
    test_name: str,
    node: Node,
    column: str | None = None,
    *,
    extra_parents: Iterable[str] = (),
    unique_id: str | None = None,
    **fields: Any,
) -> Node:
    label = f"{test_name}_{node.name}" + (f"_{column}" if column else "")
    kwargs: dict[str, Any] = {"model": f"{{{{ get_where_subquery(ref('{node.name}')) }}}}"}
    if column:
        kwargs["column_name"] = column
    fields.setdefault("config", {"enabled": True, "severity": "ERROR", "tags": []})
    return Node(
        unique_id=unique_id or f"test.{node.package_name}.{label}.0123456789",
        resource_type="test",
        name=label,
        package_name=node.package_name,
        original_file_path="models/staging/schema.yml",
        fqn=[node.package_name, "staging", label],
        raw_code=f"{{{{ test_{test_name}(**_dbt_generic_test_kwargs) }}}}",
        test_metadata=TestMetadata(name=test_name, kwargs=kwargs),
        column_name=column,
        attached_node=node.unique_id,
        depends_on=DependsOn(nodes=[node.unique_id, *extra_parents]),
        **fields,
    )


def singular_test(name: str, sql: str, parents: Iterable[str], **fields: Any) -> Node:
    return Node(
        unique_id=f"test.{PROJECT}.{name}",
        resource_type="test",
        name=name,
        package_name=PROJECT,
        original_file_path=f"tests/{name}.sql",
        fqn=[PROJECT, name],
        config={"enabled": True, "severity": "ERROR"},
        raw_code=sql,
        depends_on=DependsOn(nodes=list(parents)),
        **fields,
    )


def unit_test(name: str, node: Node, checksum: str = "u1") -> Node:
    return Node(
        unique_id=f"unit_test.{PROJECT}.{node.name}.{name}",
        resource_type="unit_test",
        name=name,
        package_name=PROJECT,
        original_file_path="models/staging/unit_tests.yml",
        fqn=[PROJECT, "staging", node.name, name],
        config={"enabled": True, "tags": []},
        checksum=Checksum("sha256", checksum),
        model=node.name,
        depends_on=DependsOn(nodes=[node.unique_id]),
    )


def exposure(name: str, parents: Iterable[str], **fields: Any) -> Node:
    fields.setdefault("owner", {"email": "a@example.com", "name": "A"})
    fields.setdefault("type", "dashboard")
    return Node(
        unique_id=f"exposure.{PROJECT}.{name}",
        resource_type="exposure",
        name=name,
        package_name=PROJECT,
        original_file_path="models/exposures.yml",
        fqn=[PROJECT, name],
        config={"enabled": True, "tags": [], "meta": {}},
        depends_on=DependsOn(nodes=list(parents)),
        **fields,
    )


def metric(name: str, parents: Iterable[str] = (), **fields: Any) -> Node:
    fields.setdefault("type", "simple")
    fields.setdefault("config", {"enabled": True, "group": None, "meta": {}})
    return Node(
        unique_id=f"metric.{PROJECT}.{name}",
        resource_type="metric",
        name=name,
        package_name=PROJECT,
        original_file_path="models/metrics.yml",
        fqn=[PROJECT, name],
        depends_on=DependsOn(nodes=list(parents)),
        **fields,
    )


def semantic_model(name: str, node: Node, **fields: Any) -> Node:
    fields.setdefault("entities", [{"name": "id", "type": "primary"}])
    return Node(
        unique_id=f"semantic_model.{PROJECT}.{name}",
        resource_type="semantic_model",
        name=name,
        package_name=PROJECT,
        original_file_path="models/semantic.yml",
        fqn=[PROJECT, name],
        config={"enabled": True, "group": None, "meta": {}},
        model=f"ref('{node.name}')",
        depends_on=DependsOn(nodes=[node.unique_id]),
        **fields,
    )


def macro(
    name: str, sql: str = "{% macro x() %}1{% endmacro %}", *, calls: Iterable[str] = ()
) -> Macro:
    return Macro(
        unique_id=f"macro.{PROJECT}.{name}",
        name=name,
        package_name=PROJECT,
        macro_sql=sql,
        depends_on=DependsOn(macros=list(calls)),
    )


_PARTS = {
    "source": "sources",
    "exposure": "exposures",
    "metric": "metrics",
    "semantic_model": "semantic_models",
    "saved_query": "saved_queries",
    "unit_test": "unit_tests",
}


def manifest(*nodes: Node, macros: Iterable[Macro] = (), project: str = PROJECT) -> Manifest:
    parts: dict[str, dict[str, Node]] = {"nodes": {}, **{p: {} for p in _PARTS.values()}}
    for node in nodes:
        parts[_PARTS.get(node.resource_type, "nodes")][node.unique_id] = node
    return Manifest(
        metadata=ManifestMetadata(
            project_name=project,
            adapter_type="duckdb",
            dbt_version="1.11.0",
            generated_at="2026-01-01T00:00:00Z",
        ),
        macros={m.unique_id: m for m in macros},
        schema_version=12,
        **parts,  # type: ignore[arg-type]
    )


def catalog(
    nodes: dict[str, list[tuple[str, str]]] | None = None,
    sources: dict[str, list[tuple[str, str]]] | None = None,
) -> Catalog:
    """Columns are given in warehouse order; the catalog dict lists them reversed, so that
    tests notice whether readers follow ``index``."""

    def tables(spec: dict[str, list[tuple[str, str]]] | None) -> dict[str, CatalogTable]:
        out = {}
        for uid, cols in (spec or {}).items():
            columns = {
                name: CatalogColumn(name=name, type=type_, index=i + 1)
                for i, (name, type_) in reversed(list(enumerate(cols)))
            }
            out[uid] = CatalogTable(unique_id=uid, columns=columns)
        return out

    return Catalog(nodes=tables(nodes), sources=tables(sources))


def column(name: str, description: str = "", data_type: str | None = None) -> ColumnInfo:
    return ColumnInfo(name=name, description=description, data_type=data_type)
