"""The manifest as decoder processes stream it, and the catalog as the server decodes it a
few tables at a time, must equal the artifact decoded whole."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from recce_trio.core.artifacts.catalog import decode_catalog, iter_catalog, read_catalog_in_pieces
from recce_trio.core.artifacts.manifest import decode_manifest, iter_manifest
from recce_trio.core.artifacts.records import Catalog, Manifest, Node
from recce_trio.errors import ArtifactDecodeError, NotADbtArtifactError
from tests.conftest import CORPUS
from tests.unit.artifact_docs import catalog_doc, manifest_doc

MANIFESTS = sorted(CORPUS.glob("*/manifest.json")) + sorted(CORPUS.glob("*/base/manifest.json"))


_wire_records = msgspec.msgpack.Decoder(list[tuple[str, Node]])


def reassemble(data: bytes, path: Path, *, wire: bool = False) -> Manifest:
    """The manifest put back together from ``iter_manifest``'s pieces; ``wire``: as a decoder
    process sends them (generic tests compact, through msgpack) and the server reads them."""
    pieces = iter_manifest(data, path=path, chunk=7, compact_tests=wire)
    manifest = next(pieces)
    assert isinstance(manifest, Manifest)
    for section, records in pieces:
        assert len(records) <= 7
        if wire and section != "macros":
            records = _wire_records.decode(msgspec.msgpack.encode(records))
        getattr(manifest, section).update(records)
    return manifest


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("wire", [False, True], ids=["records", "wire"])
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_streamed_equals_whole(path: Path, wire: bool) -> None:
    data = path.read_bytes()
    assert reassemble(data, path, wire=wire) == decode_manifest(data, path=path)


@pytest.mark.parametrize("wire", [False, True], ids=["records", "wire"])
def test_generated_manifest_streams_the_same(generated: tuple[Path, dict], wire: bool) -> None:  # type: ignore[type-arg]
    root, _ = generated
    path = root / "target" / "manifest.json"
    data = path.read_bytes()
    assert reassemble(data, path, wire=wire) == decode_manifest(data, path=path)


def test_wire_tests_keep_what_slim_test_keeps(tmp_path: Path) -> None:
    """A generic test as a decoder process sends it: the config keys state:modified compares
    (a null one included), a string column only, and nothing else."""
    doc = manifest_doc(12)
    test = {
        "unique_id": "test.p.odd.1",
        "resource_type": "test",
        "name": "odd",
        "package_name": "p",
        "fqn": ["p", "odd"],
        "raw_code": "{{ test_odd() }}",
        "unrendered_config": {"severity": "warn", "where": None, "tags": ["x"]},
        "config": {"severity": "warn", "materialized": "test"},
        "depends_on": {"nodes": ["model.p.a"], "macros": [None, "macro.p.test_odd"]},
        "test_metadata": {"name": "odd", "kwargs": {"column_name": ["a", "b"], "model": "x"}},
    }
    doc["nodes"] = {test["unique_id"]: test}
    path = tmp_path / "manifest.json"
    data = json.dumps(doc).encode()
    path.write_bytes(data)
    whole = decode_manifest(data, path=path)
    streamed = reassemble(data, path, wire=True)
    assert streamed == whole
    node = streamed.nodes["test.p.odd.1"]
    assert node.unrendered_config == {"severity": "warn", "where": None}
    assert node.test_metadata is not None and node.test_metadata.kwargs == {}
    assert node.depends_on.macros == ["macro.p.test_odd"]
    assert node.raw_code is None


CATALOGS = sorted(CORPUS.glob("*/catalog.json")) + sorted(CORPUS.glob("*/base/catalog.json"))


def reassemble_catalog(data: bytes, path: Path) -> Catalog:
    pieces = iter_catalog(data, path=path, chunk=7)
    catalog = next(pieces)
    assert isinstance(catalog, Catalog)
    for section, tables in pieces:
        assert len(tables) <= 7
        getattr(catalog, section).update(tables)
    return catalog


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_streamed_catalog_equals_whole(path: Path) -> None:
    """What the server decodes a few tables at a time is the catalog decoded whole."""
    data = path.read_bytes()
    assert reassemble_catalog(data, path) == decode_catalog(data, path=path)


def test_generated_catalog_streams_the_same(generated: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    root, _ = generated
    path = root / "target" / "catalog.json"
    data = path.read_bytes()
    assert reassemble_catalog(data, path) == decode_catalog(data, path=path)


def test_streamed_catalog_refuses_what_the_whole_decode_refuses(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(manifest_doc(12)))
    with pytest.raises(NotADbtArtifactError, match=r"like manifest.json \(manifest schema v12\)"):
        read_catalog_in_pieces(path)
    doc = catalog_doc()
    doc["nodes"] = {"model.p.a": {"columns": {"id": {"name": "id", "index": "first"}}}}
    path.write_text(json.dumps(doc))
    with pytest.raises(ArtifactDecodeError, match="is a dbt catalog .* but has a shape"):
        read_catalog_in_pieces(path)
