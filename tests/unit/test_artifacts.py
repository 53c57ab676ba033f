"""The artifact readers on small hand-written documents of each schema era, and their errors."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import recce_trio.core.artifacts
from recce_trio.core.artifacts import (
    SUPPORTED_CATALOG_VERSIONS,
    SUPPORTED_MANIFEST_VERSIONS,
    decode_catalog,
    decode_manifest,
    read_catalog,
    read_manifest,
)
from recce_trio.core.artifacts.records import Checksum
from recce_trio.errors import (
    ArtifactDecodeError,
    ArtifactError,
    ArtifactNotFoundError,
    ArtifactReadError,
    NotADbtArtifactError,
    UnsupportedSchemaVersionError,
)

SCHEMAS = "https://schemas.getdbt.com/dbt"


# --- factories ----------------------------------------------------------------------------------


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


# --- reading files ------------------------------------------------------------------------------


def test_read_manifest_and_catalog_from_files(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_bytes(encode(manifest_doc(12)))
    (tmp_path / "catalog.json").write_bytes(encode(catalog_doc()))
    assert read_manifest(tmp_path / "manifest.json").schema_version == 12
    assert read_catalog(tmp_path / "catalog.json").schema_version == 1


def test_missing_base_manifest_says_how_to_generate_it(tmp_path: Path) -> None:
    path = tmp_path / "target-base" / "manifest.json"
    with pytest.raises(ArtifactNotFoundError) as info:
        read_manifest(path)
    assert str(path) in str(info.value)
    assert "dbt docs generate --target-path target-base" in str(info.value)
    assert "base branch" in str(info.value)
    assert info.value.path == path


def test_missing_current_catalog_says_how_to_generate_it(tmp_path: Path) -> None:
    path = tmp_path / "target" / "catalog.json"
    with pytest.raises(ArtifactNotFoundError) as info:
        read_catalog(path)
    assert str(path) in str(info.value)
    assert "`dbt docs generate`" in str(info.value)


def test_a_directory_is_not_readable_as_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(ArtifactReadError, match="is a directory"):
        read_manifest(tmp_path)


READ_MANIFEST = """
import sys
from recce_trio.core.artifacts import read_manifest
try:
    read_manifest(sys.argv[1])
except Exception as exc:
    print(type(exc).__name__, exc)
"""
# Root passes every permission check through two capabilities; without them it is refused
# like anyone else (setpriv, from util-linux, drops them for the child it starts).
AS_ROOT_WITHOUT_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(b"{}")
    path.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:  # as in CI
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and setpriv (util-linux) is missing to drop its rights")
        prefix = AS_ROOT_WITHOUT_OVERRIDE
    result = subprocess.run(
        [*prefix, sys.executable, "-c", READ_MANIFEST, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.strip() == (
        f"ArtifactReadError no permission to read {path}. "
        "Make the file readable by the user running recce-trio."
    ), result.stderr


# --- bad JSON -----------------------------------------------------------------------------------


def test_empty_file() -> None:
    with pytest.raises(ArtifactDecodeError, match=r"target/manifest.json is empty \(0 bytes\)"):
        decode_manifest(b"", path="target/manifest.json")


def test_truncated_file_names_where_it_ends() -> None:
    data = encode(manifest_doc(12))[:-7]
    with pytest.raises(ArtifactDecodeError) as info:
        decode_manifest(data, path="target/manifest.json")
    assert f"ends early at byte {len(data)}" in str(info.value)
    assert "truncated" in str(info.value)


def test_two_concatenated_documents() -> None:
    one = encode(manifest_doc(12))
    with pytest.raises(ArtifactDecodeError) as info:
        decode_manifest(one + b"\n" + one, path="docs/manifest.json")
    assert "docs/manifest.json" in str(info.value)
    assert re.search(r"trailing characters \(byte \d+\)", str(info.value))
    assert "two documents" in str(info.value)


def test_not_json_at_all() -> None:
    with pytest.raises(ArtifactDecodeError, match=r"invalid character \(byte 0\)"):
        decode_catalog(b"\xff\xfe", path="catalog.json")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"nul",
        b'{"nodes": {"a": {}}}',
        b'{"nodes": []}',
        b"[1, 2]",
        b"null",
        b'{"metadata": 3}',
        b'{"metadata": {"dbt_schema_version": 7}}',
        b'{"metadata": {"dbt_schema_version": "nonsense"}}',
        b'"\\ud800"',
        b"[" * 100_000,
        b'{"a":' * 100_000,
    ],
)
def test_no_decoder_error_escapes(data: bytes) -> None:
    for decode in (decode_manifest, decode_catalog):
        with pytest.raises(ArtifactError):
            decode(data, path="x.json")


# --- the wrong artifact, or an unknown version --------------------------------------------------


def test_catalog_given_as_manifest() -> None:
    with pytest.raises(NotADbtArtifactError) as info:
        decode_manifest(encode(catalog_doc()), path="target/manifest.json")
    message = str(info.value)
    assert "target/manifest.json is not a dbt manifest" in message
    assert "looks like catalog.json (catalog schema v1)" in message


def test_manifest_given_as_catalog() -> None:
    with pytest.raises(NotADbtArtifactError, match=r"like manifest.json \(manifest schema v12\)"):
        decode_catalog(encode(manifest_doc(12)), path="target/catalog.json")


def test_pre_v1_manifest_given_as_catalog() -> None:
    doc = {"nodes": {}, "macros": {}, "generated_at": "2020-01-01T00:00:00Z", "metadata": {}}
    with pytest.raises(NotADbtArtifactError, match=r"manifest.json \(manifest schema pre-v1\)"):
        decode_catalog(encode(doc), path="catalog.json")


@pytest.mark.parametrize(
    ("kind", "version", "looks_like"),
    [("run-results", 5, "run_results.json"), ("sources", 3, "sources.json")],
)
def test_other_dbt_artifacts_are_named(kind: str, version: int, looks_like: str) -> None:
    doc = {"metadata": {"dbt_schema_version": f"{SCHEMAS}/{kind}/v{version}.json"}, "results": []}
    with pytest.raises(NotADbtArtifactError, match=f"looks like {looks_like}"):
        decode_manifest(encode(doc), path="target/manifest.json")


def test_recce_state_file_given_as_manifest() -> None:
    doc = {"metadata": {"schema_version": "v0"}, "runs": [], "checks": [], "artifacts": {}}
    with pytest.raises(NotADbtArtifactError, match="a Recce state file"):
        decode_manifest(encode(doc), path="recce_state.json")


def test_non_dbt_json_lists_its_keys() -> None:
    with pytest.raises(NotADbtArtifactError, match="top-level keys: name, version"):
        decode_manifest(b'{"name": "x", "version": 2}', path="package.json")
    with pytest.raises(NotADbtArtifactError, match="top level is not an object"):
        decode_manifest(b"[1, 2, 3]", path="list.json")


def test_newer_manifest_version_is_refused_before_decoding() -> None:
    doc = manifest_doc(13)
    doc["metadata"]["dbt_version"] = "1.13.0"
    doc["nodes"] = ["a shape we have never seen"]
    with pytest.raises(UnsupportedSchemaVersionError) as info:
        decode_manifest(encode(doc), path="target/manifest.json")
    message = str(info.value)
    assert "target/manifest.json is a dbt manifest of schema v13, written by dbt 1.13.0" in message
    assert "dbt-core 1.8 to 1.11 write manifest v12" in message
    assert "pre-v1, v1-v12, v20" in message
    assert "upgrade recce-trio" in message


def test_unknown_fusion_version_with_metadata_last_is_refused() -> None:
    doc = manifest_doc(21)
    doc["metadata"]["dbt_version"] = "2.1.0"
    doc["nodes"] = {"model.a.b": {"unique_id": 5}}  # a shape that fails typed decoding
    data = json.dumps(doc, sort_keys=True).encode()
    with pytest.raises(UnsupportedSchemaVersionError, match=r"schema v21, written by dbt 2.1.0"):
        decode_manifest(data, path="target/manifest.json")
    doc["nodes"] = {}
    with pytest.raises(UnsupportedSchemaVersionError, match="schema v21"):
        decode_manifest(json.dumps(doc, sort_keys=True).encode(), path="target/manifest.json")


def test_supported_version_with_a_wrong_shape_is_a_decode_error() -> None:
    node = {"unique_id": "model.shop.orders", "tags": "not a list"}
    doc = manifest_doc(12, nodes={"model.shop.orders": node})
    with pytest.raises(ArtifactDecodeError) as info:
        decode_manifest(encode(doc), path="target/manifest.json")
    assert "target/manifest.json is a dbt manifest (v12)" in str(info.value)
    assert "$.nodes" in str(info.value)


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
