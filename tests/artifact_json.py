"""Small, valid dbt artifacts written as JSON files for server tests (dbt 1.11, schema v12)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MANIFEST_V12 = "https://schemas.getdbt.com/dbt/manifest/v12.json"
CATALOG_V1 = "https://schemas.getdbt.com/dbt/catalog/v1.json"


def _model(project: str, name: str, sql: str, parents: list[str], **extra: Any) -> dict[str, Any]:
    uid = f"model.{project}.{name}"
    return {
        "database": "db",
        "schema": "main",
        "name": name,
        "resource_type": "model",
        "package_name": project,
        "path": f"{name}.sql",
        "original_file_path": f"models/{name}.sql",
        "unique_id": uid,
        "fqn": [project, name],
        "alias": name,
        "checksum": {"name": "sha256", "checksum": str(hash(sql) & 0xFFFFFFFF)},
        "config": {"enabled": True, "materialized": "view", "tags": []},
        "tags": [],
        "description": "",
        "columns": {},
        "unrendered_config": {"materialized": "view"},
        "raw_code": sql,
        "language": "sql",
        "depends_on": {"macros": [], "nodes": parents},
        "contract": {"enforced": False, "alias_types": True, "checksum": None},
        "access": "protected",
        "version": None,
        "latest_version": None,
        "deprecation_date": None,
        **extra,
    }


def manifest(
    models: dict[str, str] | None = None,
    *,
    project: str = "shop",
    generated_at: str = "2026-01-01T00:00:00Z",
) -> dict[str, Any]:
    """A manifest with a source and a chain of models named in ``models`` (name -> SQL)."""
    models = models if models is not None else {"stg_orders": "select 1", "orders": "select 2"}
    source_id = f"source.{project}.raw.orders"
    nodes: dict[str, Any] = {}
    parent = source_id
    for name, sql in models.items():
        node = _model(project, name, sql, [parent])
        nodes[node["unique_id"]] = node
        parent = node["unique_id"]
    source = {
        "database": "db",
        "schema": "raw",
        "name": "orders",
        "resource_type": "source",
        "package_name": project,
        "path": "models/sources.yml",
        "original_file_path": "models/sources.yml",
        "unique_id": source_id,
        "fqn": [project, "raw", "orders"],
        "source_name": "raw",
        "source_description": "",
        "loader": "",
        "identifier": "orders",
        "quoting": {},
        "loaded_at_field": None,
        "freshness": None,
        "external": None,
        "description": "",
        "columns": {},
        "meta": {},
        "source_meta": {},
        "tags": [],
        "config": {"enabled": True},
        "unrendered_config": {},
        "relation_name": '"db"."raw"."orders"',
    }
    parent_map = {uid: n["depends_on"]["nodes"] for uid, n in nodes.items()}
    parent_map[source_id] = []
    return {
        "metadata": {
            "dbt_schema_version": MANIFEST_V12,
            "dbt_version": "1.11.0",
            "generated_at": generated_at,
            "invocation_id": "00000000-0000-0000-0000-000000000000",
            "env": {},
            "project_name": project,
            "project_id": "abc",
            "user_id": None,
            "send_anonymous_usage_stats": False,
            "adapter_type": "duckdb",
        },
        "nodes": nodes,
        "sources": {source_id: source},
        "macros": {},
        "docs": {},
        "exposures": {},
        "metrics": {},
        "groups": {},
        "selectors": {},
        "disabled": {},
        "parent_map": parent_map,
        "child_map": {},
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {},
    }


def catalog(
    tables: dict[str, dict[str, str]], *, generated_at: str = "2026-01-01T00:00:00Z"
) -> dict[str, Any]:
    """A catalog: unique_id -> {column name: type}, columns in the given order."""
    nodes = {
        uid: {
            "unique_id": uid,
            "metadata": {
                "type": "VIEW",
                "schema": "main",
                "name": uid.split(".")[-1],
                "database": "db",
                "comment": None,
                "owner": None,
            },
            "columns": {
                name: {"type": typ, "index": i + 1, "name": name, "comment": None}
                for i, (name, typ) in enumerate(cols.items())
            },
            "stats": {},
        }
        for uid, cols in tables.items()
    }
    return {
        "metadata": {
            "dbt_schema_version": CATALOG_V1,
            "dbt_version": "1.11.0",
            "generated_at": generated_at,
            "invocation_id": None,
            "env": {},
        },
        "nodes": nodes,
        "sources": {},
        "errors": None,
    }


def write_project(
    root: Path,
    *,
    base: dict[str, Any] | None = None,
    current: dict[str, Any] | None = None,
    base_catalog: dict[str, Any] | None = None,
    current_catalog: dict[str, Any] | None = None,
    with_base: bool = True,
) -> Path:
    """Write target/ and (unless ``with_base`` is false) target-base/ under ``root``."""
    current = (
        current
        if current is not None
        else manifest({"stg_orders": "select 1", "orders": "select 3"})
    )
    base = base if base is not None else manifest()
    cols = {"model.shop.orders": {"id": "integer", "amount": "double"}}
    files = {
        "target/manifest.json": current,
        "target/catalog.json": current_catalog or catalog(cols),
    }
    if with_base:
        files["target-base/manifest.json"] = base
        files["target-base/catalog.json"] = base_catalog or catalog(cols)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    return root
