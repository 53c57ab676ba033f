"""The manifests as the whole-project lineage map's child reads them (``core.cll.artifacts``:
without the tests) hold the same records as ``read_manifest``'s, for every manifest of the
shared corpus (each schema version in it): the child's lineage cannot differ by its reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from recce_trio.core.artifacts import read_manifest
from recce_trio.core.cll.artifacts import fingerprint, is_test, read_lineage_manifest
from tests.corpus.test_corpus_cll import corpus_sets

pytestmark = pytest.mark.corpus


@pytest.mark.parametrize("folder", corpus_sets(with_base=False))
def test_the_lineage_reader_keeps_every_record_lineage_reads(folder: Path) -> None:
    path = folder / "manifest.json"
    whole = read_manifest(path)
    lean = read_lineage_manifest(path)
    assert lean.metadata == whole.metadata
    assert lean.schema_version == whole.schema_version
    assert lean.nodes == {uid: n for uid, n in whole.nodes.items() if not is_test(uid)}
    for section in ("sources", "exposures", "metrics", "semantic_models"):
        assert getattr(lean, section) == getattr(whole, section), section
    # The server checks the child's read against its own by this.
    assert fingerprint(lean) == fingerprint(whole)
