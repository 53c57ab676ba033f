"""The artifact readers' errors: bad JSON, the wrong artifact, an unknown schema version, a
supported version of the wrong shape; each message says what the file is and what to do."""

from __future__ import annotations

import json
import re

import pytest

from recce_trio.core.artifacts import decode_catalog, decode_manifest
from recce_trio.errors import (
    ArtifactDecodeError,
    ArtifactError,
    NotADbtArtifactError,
    UnsupportedSchemaVersionError,
)
from tests.unit.artifact_docs import SCHEMAS, catalog_doc, encode, manifest_doc

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
