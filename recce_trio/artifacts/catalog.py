"""Decode dbt's catalog.json (the columns as built in the warehouse) into a ``Catalog``."""

from __future__ import annotations

from pathlib import Path

import msgspec

from recce_trio.artifacts.manifest import (
    check_artifact,
    explain_failure,
    identify,
    parse_schema_url,
    read_artifact_bytes,
    sniff_head,
)
from recce_trio.artifacts.records import Catalog

# 0 stands for the catalogs of dbt before 0.19, which carry no metadata. dbt has written
# catalog v1 ever since, dbt Fusion included.
SUPPORTED_CATALOG_VERSIONS: tuple[int, ...] = (0, 1)


def decode_catalog(data: bytes, *, path: Path | str) -> Catalog:
    """Decode catalog.json bytes of any supported schema version; ``path`` is only for messages.

    Raises ``ArtifactDecodeError``, ``NotADbtArtifactError`` or ``UnsupportedSchemaVersionError``.
    """
    head = sniff_head(data)
    if head is not None:
        check_artifact(head, want="catalog", supported=SUPPORTED_CATALOG_VERSIONS, path=path)
    try:
        catalog = msgspec.json.decode(data, type=Catalog)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise explain_failure(
            exc, data, want="catalog", supported=SUPPORTED_CATALOG_VERSIONS, path=path
        ) from None

    if head is None:
        schema_url = catalog.metadata.dbt_schema_version
        if schema_url is not None:
            head = parse_schema_url(schema_url, dbt_version=catalog.metadata.dbt_version)
        else:
            head = identify(data, path=path)
    catalog.schema_version = check_artifact(
        head, want="catalog", supported=SUPPORTED_CATALOG_VERSIONS, path=path
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
