"""Hand-written manifest and catalog JSON documents of any schema era, for the reader tests
(tests/unit/test_artifacts.py, test_artifact_errors.py, test_artifact_files.py and
test_iter_manifest.py)."""

from __future__ import annotations

import json
from typing import Any

SCHEMAS = "https://schemas.getdbt.com/dbt"


def model(name: str, *, code_key: str = "raw_code", **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "unique_id": f"model.shop.{name}",
        "resource_type": "model",
        "name": name,
        "package_name": "shop",
        "original_file_path": f"models/{name}.sql",
        "checksum": {"name": "sha256", "checksum": f"sum-{name}"},
        "depends_on": {"macros": [], "nodes": []},
        "config": {"materialized": "view"},
        code_key: f"select 1 as {name}",
    }
    node.update(extra)
    return node


def source(name: str) -> dict[str, Any]:
    return {
        "unique_id": f"source.shop.raw.{name}",
        "resource_type": "source",
        "name": name,
        "source_name": "raw",
        "package_name": "shop",
        "identifier": name,
    }


def manifest_doc(version: int, **sections: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "metadata": {
            "dbt_schema_version": f"{SCHEMAS}/manifest/v{version}.json",
            "dbt_version": "1.9.0",
            "generated_at": "2025-01-01T00:00:00Z",
            "adapter_type": "duckdb",
        },
        "nodes": {},
        "sources": {},
        "macros": {},
        "parent_map": {},
        "child_map": {},
    }
    doc.update(sections)
    return doc


def catalog_doc(version: int = 1, **sections: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "metadata": {
            "dbt_schema_version": f"{SCHEMAS}/catalog/v{version}.json",
            "dbt_version": "1.9.0",
        },
        "nodes": {},
        "sources": {},
        "errors": None,
    }
    doc.update(sections)
    return doc


def table(unique_id: str, *columns: str) -> dict[str, Any]:
    return {
        "unique_id": unique_id,
        "metadata": {"type": "VIEW", "schema": "main", "name": unique_id.rsplit(".", 1)[-1]},
        "columns": {
            c: {"name": c, "type": "INTEGER", "index": i + 1} for i, c in enumerate(columns)
        },
        "stats": {"has_stats": {"id": "has_stats", "value": False}},
    }


def encode(doc: Any) -> bytes:
    return json.dumps(doc).encode()
