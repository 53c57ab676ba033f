"""The manifest as decoder processes stream it, and the catalog as the server decodes it a
few tables at a time, must equal the artifact decoded whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recce_trio.core.artifacts.catalog import decode_catalog, iter_catalog, read_catalog_in_pieces
from recce_trio.core.artifacts.manifest import decode_manifest, iter_manifest
from recce_trio.core.artifacts.records import Catalog, Manifest
from recce_trio.errors import ArtifactDecodeError, NotADbtArtifactError
from tests.conftest import CORPUS
from tests.unit.test_artifacts import catalog_doc, manifest_doc

MANIFESTS = sorted(CORPUS.glob("*/manifest.json")) + sorted(CORPUS.glob("*/base/manifest.json"))


def reassemble(data: bytes, path: Path) -> Manifest:
    pieces = iter_manifest(data, path=path, chunk=7)
    manifest = next(pieces)
    assert isinstance(manifest, Manifest)
    for section, records in pieces:
        assert len(records) <= 7
        getattr(manifest, section).update(records)
    return manifest


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_streamed_equals_whole(path: Path) -> None:
    data = path.read_bytes()
    assert reassemble(data, path) == decode_manifest(data, path=path)


def test_generated_manifest_streams_the_same(generated: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    root, _ = generated
    path = root / "target" / "manifest.json"
    data = path.read_bytes()
    assert reassemble(data, path) == decode_manifest(data, path=path)


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
