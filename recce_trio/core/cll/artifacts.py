"""A manifest as column-level lineage reads it: without its tests.

The whole-project map's child process reads the artifact files again (see
``server.cll_child``). Generic tests are most of a large project's nodes (17,000 of 22,000 at
5,000 models) and lineage never looks at them, so ``read_lineage_manifest`` leaves every
``test.`` node as undecoded JSON: a third of the time ``read_manifest`` takes. The rest is
decoded into the same records, so lineage gives the same answers over either.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import msgspec

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.artifacts.identify import (
    check_artifact,
    explain_failure,
    read_artifact_bytes,
    sniff_head,
)
from recce_trio.core.artifacts.manifest import SUPPORTED_MANIFEST_VERSIONS
from recce_trio.core.artifacts.records import Catalog, Manifest, ManifestMetadata, Node

TEST_PREFIX = "test."


class _LineageSections(msgspec.Struct):
    """The sections lineage reads (``CllProject``: the lineage graph, relations, SQL); the
    ``nodes`` left as raw JSON so that tests are skipped without being decoded."""

    metadata: ManifestMetadata = msgspec.field(default_factory=ManifestMetadata)
    nodes: dict[str, msgspec.Raw] = {}
    sources: dict[str, Node] = {}
    exposures: dict[str, Node] = {}
    metrics: dict[str, Node] = {}
    semantic_models: dict[str, Node] = {}


_sections = msgspec.json.Decoder(_LineageSections)
_node = msgspec.json.Decoder(Node)


def read_lineage_manifest(path: Path) -> Manifest:
    """``read_manifest`` without the tests (``nodes`` has no ``test.`` entry) and without
    the sections lineage does not read (macros, saved queries, unit tests, functions).
    Files whose first bytes do not say what they are (before v1, Fusion's) are read whole."""
    data = read_artifact_bytes(path, kind="manifest")
    head = sniff_head(data)
    if head is None or head.schema_version == 0:
        manifest = read_manifest(path)
        manifest.nodes = {u: n for u, n in manifest.nodes.items() if not is_test(u)}
        return manifest
    version = check_artifact(
        head, want="manifest", supported=SUPPORTED_MANIFEST_VERSIONS, path=path
    )
    try:
        found = _sections.decode(data)
        nodes = {uid: _node.decode(raw) for uid, raw in found.nodes.items() if not is_test(uid)}
    except (msgspec.DecodeError, RecursionError) as exc:
        raise explain_failure(
            exc, data, want="manifest", supported=SUPPORTED_MANIFEST_VERSIONS, path=path
        ) from None
    return Manifest(
        metadata=found.metadata,
        nodes=nodes,
        sources=found.sources,
        exposures=found.exposures,
        metrics=found.metrics,
        semantic_models=found.semantic_models,
        schema_version=version,
    )


def is_test(unique_id: str) -> bool:
    """Whether ``unique_id`` names a data test (dbt spells it ``test.<package>.<name>``)."""
    return unique_id.startswith(TEST_PREFIX)


def fingerprint(*artifacts: Manifest | Catalog | None) -> tuple[object, ...]:
    """What tells two reads of the same artifacts apart (dbt stamps each file it writes): the
    server checks the map's child read the files it serves. Tests are not counted, so that a
    manifest read by ``read_lineage_manifest`` and by ``read_manifest`` agree."""
    out: list[object] = []
    for artifact in artifacts:
        if artifact is None:
            out.append(None)
            continue
        meta = artifact.metadata
        nodes = sum(1 for uid in artifact.nodes if not is_test(uid))
        out.append((meta.generated_at, meta.invocation_id, nodes))
    return tuple(out)


ENVS_KINDS = (
    ("base", "manifest"),
    ("base", "catalog"),
    ("current", "manifest"),
    ("current", "catalog"),
)


def read_lineage_artifacts(
    paths: Mapping[str, str | None],
) -> tuple[Manifest, Catalog | None, Manifest, Catalog | None]:
    """The base and current manifest (``read_lineage_manifest``) and catalog, from ``paths``
    (``{"base_manifest": path, "base_catalog": path or None, ...}``); a file named twice is
    read once, a catalog that is missing is None."""
    read: dict[str, Manifest | Catalog | None] = {}
    for env, kind in ENVS_KINDS:
        path = paths.get(f"{env}_{kind}")
        if path is None or path in read:
            continue
        if kind == "manifest":
            read[path] = read_lineage_manifest(Path(path))
        else:
            read[path] = read_catalog(Path(path)) if Path(path).is_file() else None

    def get(env: str, kind: str) -> object:
        path = paths.get(f"{env}_{kind}")
        return None if path is None else read[path]

    base_m, cur_m = get("base", "manifest"), get("current", "manifest")
    base_c, cur_c = get("base", "catalog"), get("current", "catalog")
    assert isinstance(base_m, Manifest) and isinstance(cur_m, Manifest), "no manifest"
    assert base_c is None or isinstance(base_c, Catalog)
    assert cur_c is None or isinstance(cur_c, Catalog)
    return base_m, base_c, cur_m, cur_c
