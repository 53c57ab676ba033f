"""The artifact readers on small hand-written documents of each schema era.

Their errors are in test_artifact_errors.py, reading from files in test_artifact_files.py.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import recce_trio.core.artifacts
from recce_trio.core.artifacts import (
    SUPPORTED_CATALOG_VERSIONS,
    SUPPORTED_MANIFEST_VERSIONS,
    decode_catalog,
    decode_manifest,
)
from recce_trio.core.artifacts.records import Checksum
from recce_trio.errors import UnsupportedSchemaVersionError
from tests.unit.artifact_docs import catalog_doc, encode, manifest_doc, model, source, table

# --- manifests, era by era ----------------------------------------------------------------------


def test_pre_v1_manifest_metadata_last_raw_sql_and_sources_among_nodes() -> None:
    # dbt 0.16: no dbt_schema_version, generated_at at the top, metadata last, no checksums,
    # and sources kept among the nodes.
    stg = model("stg_orders", code_key="raw_sql", compiled_sql="select 1", injected_sql="x")
    del stg["checksum"]
    doc = {
        "nodes": {stg["unique_id"]: stg, "source.shop.raw.orders": source("orders")},
        "macros": {},
        "docs": {},
        "disabled": [],
        "generated_at": "2020-05-05T23:24:18Z",
        "parent_map": {},
        "child_map": {},
        "metadata": {"project_id": "abc", "adapter_type": "bigquery"},
        "files": {},
    }
    manifest = decode_manifest(encode(doc), path="target/manifest.json")

    assert manifest.schema_version == 0
    assert manifest.metadata.generated_at == "2020-05-05T23:24:18Z"
    assert manifest.metadata.adapter_type == "bigquery"
    assert list(manifest.nodes) == ["model.shop.stg_orders"]
    assert list(manifest.sources) == ["source.shop.raw.orders"]
    node = manifest.nodes["model.shop.stg_orders"]
    assert node.raw_code == "select 1 as stg_orders"
    assert node.raw_sql is None
    assert node.checksum is None


def test_v4_manifest_moves_raw_sql_into_raw_code() -> None:
    stg = model("stg_orders", code_key="raw_sql", compiled_sql="select 1")
    doc = manifest_doc(
        4, nodes={stg["unique_id"]: stg}, sources={"source.shop.raw.orders": source("orders")}
    )
    manifest = decode_manifest(encode(doc), path="m.json")

    assert manifest.schema_version == 4
    assert manifest.metadata.dbt_version == "1.9.0"
    node = manifest.nodes["model.shop.stg_orders"]
    assert node.raw_code == "select 1 as stg_orders"
    # compiled_sql (before v7) is kept as compiled_code, which column lineage reads.
    assert node.compiled_code == "select 1"
    assert node.compiled_sql is None
    assert node.checksum == Checksum(name="sha256", checksum="sum-stg_orders")
    assert manifest.sources["source.shop.raw.orders"].source_name == "raw"


def test_v12_manifest_sections_and_dbt_quirks() -> None:
    # dbt 1.5 wrote null into some depends_on.macros.
    depends_on = {"macros": [None, "macro.dbt.ref"], "nodes": ["source.shop.raw.orders"]}
    orders = model("orders", depends_on=depends_on)
    unit_test = {
        "unique_id": "unit_test.shop.orders.test_orders",
        "resource_type": "unit_test",
        "name": "test_orders",
        "model": "orders",
        "checksum": "cd5503c4",  # a bare string for unit tests
    }
    udf = {"unique_id": "function.shop.double_it", "resource_type": "function", "name": "double_it"}
    doc = manifest_doc(
        12,
        nodes={orders["unique_id"]: orders},
        sources={"source.shop.raw.orders": source("orders")},
        unit_tests={unit_test["unique_id"]: unit_test},
        functions={udf["unique_id"]: udf},
        semantic_models={"semantic_model.shop.orders": {"unique_id": "semantic_model.shop.orders"}},
        macros={
            uid: {"unique_id": uid, "macro_sql": "{% macro a() %}{% endmacro %}"}
            for uid in ("macro.shop.a", "macro.shop.b")
        },
    )
    manifest = decode_manifest(encode(doc), path="m.json")

    assert manifest.schema_version == 12
    node = manifest.nodes["model.shop.orders"]
    assert node.depends_on.macros == ["macro.dbt.ref"]
    assert node.depends_on.nodes == ["source.shop.raw.orders"]
    assert manifest.unit_tests[unit_test["unique_id"]].checksum == Checksum("sha256", "cd5503c4")
    assert set(manifest.all_nodes()) >= {"function.shop.double_it", "semantic_model.shop.orders"}
    a, b = manifest.macros["macro.shop.a"], manifest.macros["macro.shop.b"]
    assert a.macro_sql == ""
    assert a.sql_digest and a.sql_digest == b.sql_digest


def test_v20_fusion_manifest_sorted_keys_and_null_metadata() -> None:
    orders = model("orders", raw_code="--placeholder--")
    doc = manifest_doc(20, nodes={orders["unique_id"]: orders})
    doc["metadata"].update(dbt_version="2.0.0-preview.35", project_id=None, user_id=None)
    data = json.dumps(doc, sort_keys=True).encode()
    assert data.startswith(b'{"child_map"')  # so the version is not in the first bytes

    manifest = decode_manifest(data, path="m.json")
    assert manifest.schema_version == 20
    assert manifest.metadata.dbt_version == "2.0.0-preview.35"
    assert manifest.metadata.project_id is None
    assert list(manifest.nodes) == ["model.shop.orders"]


def test_unknown_fields_are_skipped() -> None:
    orders = model("orders", brand_new_field={"deep": [1, {"x": None}]}, compiled_code="select 1")
    doc = manifest_doc(12, nodes={orders["unique_id"]: orders}, a_new_section={"k": "v"})
    doc["metadata"]["invocation_started_at"] = None
    manifest = decode_manifest(encode(doc), path="m.json")
    assert manifest.nodes["model.shop.orders"].name == "orders"


def test_every_supported_manifest_version_is_accepted() -> None:
    for version in SUPPORTED_MANIFEST_VERSIONS:
        if version == 0:
            continue
        manifest = decode_manifest(encode(manifest_doc(version)), path="m.json")
        assert manifest.schema_version == version


# --- catalogs -----------------------------------------------------------------------------------


def test_v1_catalog_columns_and_unknown_fields() -> None:
    doc = catalog_doc(
        nodes={"model.shop.orders": table("model.shop.orders", "id", "amount")},
        sources={"source.shop.raw.orders": table("source.shop.raw.orders", "id")},
    )
    catalog = decode_catalog(encode(doc), path="target/catalog.json")
    assert catalog.schema_version == 1
    columns = catalog.nodes["model.shop.orders"].columns
    assert [(c.name, c.type, c.index) for c in columns.values()] == [
        ("id", "INTEGER", 1),
        ("amount", "INTEGER", 2),
    ]
    assert catalog.sources["source.shop.raw.orders"].metadata.type == "VIEW"


def test_pre_v1_catalog_without_metadata_and_with_sources_among_nodes() -> None:
    orders = table("model.shop.orders", "id")
    del orders["unique_id"]
    doc = {
        "nodes": {
            "model.shop.orders": orders,
            "source.shop.raw.orders": table("source.shop.raw.orders"),
        },
        "generated_at": "2020-05-05T23:24:23Z",
        "errors": None,
    }
    catalog = decode_catalog(encode(doc), path="catalog.json")
    assert catalog.schema_version == 0
    assert catalog.metadata.generated_at == "2020-05-05T23:24:23Z"
    assert list(catalog.nodes) == ["model.shop.orders"]
    assert list(catalog.sources) == ["source.shop.raw.orders"]


def test_unknown_catalog_version_is_refused() -> None:
    with pytest.raises(UnsupportedSchemaVersionError) as info:
        decode_catalog(encode(catalog_doc(2)), path="target/catalog.json")
    message = str(info.value)
    assert "target/catalog.json" in message
    assert "v2" in message
    assert "pre-v1, v1" in message
    assert SUPPORTED_CATALOG_VERSIONS == (0, 1)


# --- the domain stays pure ----------------------------------------------------------------------


def test_artifacts_import_no_io_framework() -> None:
    package = Path(recce_trio.core.artifacts.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in {"trio", "quart", "quart_trio", "click", "hypercorn"}, (
                    f"{module.name} imports {name}"
                )
