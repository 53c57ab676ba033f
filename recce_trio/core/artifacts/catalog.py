"""Decode dbt's catalog.json (the columns as built in the warehouse) into a ``Catalog``."""

from __future__ import annotations

from pathlib import Path

from recce_trio.core.artifacts.identify import read_artifact_bytes
from recce_trio.core.artifacts.manifest import decode_typed
from recce_trio.core.artifacts.records import Catalog

# 0 stands for the catalogs of dbt before 0.19, which carry no metadata. dbt has written
# catalog v1 ever since, dbt Fusion included.
SUPPORTED_CATALOG_VERSIONS: tuple[int, ...] = (0, 1)


def decode_catalog(data: bytes, *, path: Path | str) -> Catalog:
    """Decode catalog.json bytes of any supported schema version; ``path`` is only for messages.

    Raises ``ArtifactDecodeError``, ``NotADbtArtifactError`` or ``UnsupportedSchemaVersionError``.
    """
    catalog, head = decode_typed(
        data, type_=Catalog, want="catalog", supported=SUPPORTED_CATALOG_VERSIONS, path=path
    )
    if catalog.schema_version == 0:
        # Before v1, generated_at sat at the top level, and dbt before 0.17 kept sources in nodes.
        if catalog.metadata.generated_at is None:
            catalog.metadata.generated_at = head.generated_at
        sources = {uid: t for uid, t in catalog.nodes.items() if uid.startswith("source.")}
        if sources:
            catalog.nodes = {uid: t for uid, t in catalog.nodes.items() if uid not in sources}
            catalog.sources = {**catalog.sources, **sources}
    return catalog


def read_catalog(path: Path) -> Catalog:
    """Read and decode a catalog.json file."""
    return decode_catalog(read_artifact_bytes(path, kind="catalog"), path=path)
