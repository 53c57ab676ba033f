"""A manifest's ``Side`` (its share of a review) can be made before the other manifest is in,
or record by record as a decoder sends them: the review a user gets must not depend on it."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import msgspec
import pytest

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.artifacts.manifest import RECORD_SECTIONS
from recce_trio.core.artifacts.records import Catalog, ColumnInfo, Manifest
from recce_trio.core.artifactset import LoadedArtifacts
from recce_trio.core.diff import modified_lineage_nodes
from recce_trio.core.review import Review, build_review
from recce_trio.core.selector import SelectionGraph
from recce_trio.core.side import Side, SideBuilder, state_comparison
from recce_trio.core.state_rules import StateComparison
from recce_trio.server import decoders
from tests.conftest import CORPUS
from tests.unit import factories as f


def review(
    base: Manifest,
    current: Manifest,
    catalogs: tuple[Catalog | None, Catalog | None] = (None, None),
    prepared: tuple[Side, ...] = (),
) -> Review:
    return build_review(
        LoadedArtifacts(
            base_manifest=base,
            current_manifest=current,
            base_catalog=catalogs[0],
            current_catalog=catalogs[1],
            single_env=base is current,
            prepared=prepared,
        )
    )


def served(result: Review) -> tuple[bytes, Any, Any]:
    """What clients see of a review: /api/info's lineage, the older full form, the diff."""
    return bytes(result.lineage_json), bytes(result.full_lineage_json()), result.diff.diff


def streamed(manifest: Manifest, *, chunk: int = 7, reverse: bool = False) -> Side:
    """The side made as a decoder process's frames would feed it: a few records at a time,
    sections in any order."""
    builder = SideBuilder()
    for section in reversed(RECORD_SECTIONS) if reverse else RECORD_SECTIONS:
        pairs = list(getattr(manifest, section).items())
        for start in range(0, len(pairs), chunk):
            builder.add(section, pairs[start : start + chunk])
    assert builder.saw_all_of(manifest)  # so the side takes the ids, parents and index kept
    return Side(manifest, early=builder)


def through_a_decoder(path: Path) -> tuple[Manifest, Side]:
    """The manifest and its side as the server's loader gets them from a decoder process: the
    decoder's own frames (each lineage record's share of the side worked out there, on the
    records it decoded), read back by the server's reader into a ``SideBuilder``."""
    stream = io.BytesIO()
    for tag, payload in decoders._frames("manifest", path):
        decoders._write(stream, tag, payload)
    stream.seek(0)
    builder = SideBuilder()
    manifest = decoders._receive("manifest", path, stream, None, None, builder.add)
    assert isinstance(manifest, Manifest)
    assert builder.saw_all_of(manifest)
    return manifest, Side(manifest, early=builder)


def same_review_through_decoders(
    base_path: Path, current_path: Path, catalogs: tuple[Catalog | None, Catalog | None]
) -> None:
    expected = served(review(read_manifest(base_path), read_manifest(current_path), catalogs))
    (base, base_side), (current, current_side) = map(through_a_decoder, (base_path, current_path))
    assert served(review(base, current, catalogs, (base_side, current_side))) == expected


def same_review_every_way(
    base: Manifest, current: Manifest, catalogs: tuple[Catalog | None, Catalog | None]
) -> None:
    expected = served(review(base, current, catalogs))
    ways = [
        (Side(base), Side(current)),
        (streamed(base), streamed(current, reverse=True)),
        (Side(current),),  # only one side prepared: the other is made in the build
    ]
    for prepared in ways:
        assert served(review(base, current, catalogs, prepared)) == expected


def catalog_of(folder: Path) -> Catalog | None:
    path = folder / "catalog.json"
    return read_catalog(path) if path.exists() else None


def test_generated_project_is_the_same_review_however_its_sides_were_made(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    root, summary = generated
    base = read_manifest(root / "target-base/manifest.json")
    current = read_manifest(root / "target/manifest.json")
    catalogs = (catalog_of(root / "target-base"), catalog_of(root / "target"))
    same_review_every_way(base, current, catalogs)
    changed = set(review(base, current, catalogs, (Side(base), Side(current))).diff.diff)
    assert set(summary["modified"]["raw_code"]) <= changed
    same_review_through_decoders(
        root / "target-base/manifest.json", root / "target/manifest.json", catalogs
    )


def test_a_side_fed_a_record_that_was_replaced_later_uses_the_one_kept() -> None:
    # A decoder never sends a record twice, but a side must not trust what it saw blindly:
    # the manifest's own record is the one that counts.
    old = f.model("orders", "select 1")
    new = f.model("orders", "select 2")
    base = f.manifest(f.model("orders", "select 1"))
    current = f.manifest(new)
    builder = SideBuilder()
    builder.add("nodes", [(old.unique_id, old)])
    side = Side(current, early=builder)
    assert side.records[new.unique_id] is new
    changed = review(base, current, prepared=(Side(base), side)).diff.diff
    assert changed[new.unique_id]["change_status"] == "modified"


def test_a_side_made_for_another_manifest_object_is_not_used() -> None:
    base = f.manifest(f.model("orders", "select 1"))
    current = f.manifest(f.model("orders", "select 2"))
    lookalike = f.manifest(f.model("orders", "select 1"))  # equal to base, but not base
    result = review(base, current, prepared=(Side(lookalike), Side(lookalike)))
    assert set(result.diff.diff) == {"model.shop.orders"}


def persisted(description: str, *, columns: bool) -> Any:
    return f.model(
        "orders",
        "select 1",
        config={"persist_docs": {"columns": columns}},
        columns={"id": ColumnInfo(name="id", description=description)},
    )


def contracted(enforced: bool, checksum: str) -> Any:
    node = f.model("orders")
    return msgspec.structs.replace(node, contract={"enforced": enforced, "checksum": checksum})


@pytest.mark.parametrize(
    ("base_node", "current_node", "modified"),
    [
        # Column descriptions count only where the node persists them (dbt's rule).
        (persisted("the id", columns=True), persisted("the key", columns=True), True),
        (persisted("the id", columns=False), persisted("the key", columns=False), False),
        (persisted("the id", columns=False), persisted("the id", columns=True), False),
        # An enforced contract whose checksum changed is a change; one not enforced is not.
        (contracted(True, "a"), contracted(True, "b"), True),
        (contracted(False, "a"), contracted(False, "b"), False),
        # Excluded config keys differ: the keys differ, the comparison says unchanged.
        (
            f.model("orders", config={"schema": "a"}),
            f.model("orders", config={"schema": "a"}, unrendered_config={"tags": ["x"]}),
            False,
        ),
    ],
)
def test_state_modified_with_comparison_keys_is_dbts(
    base_node: Any, current_node: Any, modified: bool
) -> None:
    base, current = f.manifest(base_node), f.manifest(current_node)
    sides = (Side(base), Side(current))
    keyed = state_comparison(*sides)
    uid = current_node.unique_id
    assert keyed.is_modified(uid) is modified
    assert (uid in StateComparison(base, current).select("modified")) is modified


CORPUS_PAIRS = sorted(p.parent.parent for p in CORPUS.glob("*/base/manifest.json"))


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("folder", CORPUS_PAIRS, ids=lambda p: p.name)
def test_corpus_pairs_are_the_same_review_however_their_sides_were_made(folder: Path) -> None:
    base = read_manifest(folder / "base" / "manifest.json")
    current = read_manifest(folder / "manifest.json")
    catalogs = (catalog_of(folder / "base"), catalog_of(folder))
    same_review_every_way(base, current, catalogs)
    same_review_through_decoders(
        folder / "base" / "manifest.json", folder / "manifest.json", catalogs
    )
    # state:modified through the comparison keys is the full selector's answer.
    base_side, current_side = Side(base), Side(current)
    keyed = state_comparison(base_side, current_side)
    project = current.metadata.project_name or base.metadata.project_name
    ids = base_side.id_set | current_side.id_set
    full = SelectionGraph(base, current).select(
        select="state:modified", packages=[project] if project else None
    )
    assert modified_lineage_nodes(keyed, ids, project) == full & ids


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
def test_corpus_projects_against_each_other_are_the_same_review() -> None:
    # Two unrelated projects: nearly everything added or removed, sources and seeds included.
    folders = sorted(p.parent for p in CORPUS.glob("*/manifest.json"))[:12]
    for older, newer in itertools.pairwise(folders):
        base, current = (
            read_manifest(older / "manifest.json"),
            read_manifest(newer / "manifest.json"),
        )
        same_review_every_way(base, current, (catalog_of(older), catalog_of(newer)))


def test_single_environment_review_uses_one_side() -> None:
    manifest = f.manifest(f.model("orders"), f.model("customers"))
    side = Side(manifest)
    result = review(manifest, manifest, prepared=(side,))
    assert result.diff.diff == {}
    assert msgspec.json.decode(result.lineage_json)["nodes"].keys() == {
        "model.shop.customers",
        "model.shop.orders",
    }
