"""The manifest as decoder processes stream it must equal the manifest decoded whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from recce_trio.core.artifacts.manifest import decode_manifest, iter_manifest
from recce_trio.core.artifacts.records import Manifest
from tests.conftest import CORPUS

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
