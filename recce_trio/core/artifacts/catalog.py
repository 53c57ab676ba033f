"""Decode dbt's catalog.json (the columns as built in the warehouse) into a ``Catalog``."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from recce_trio.core.artifacts.identify import (
    Document,
    check_artifact,
    explain_failure,
    read_artifact_bytes,
    sniff_head,
)
from recce_trio.core.artifacts.manifest import decode_typed
from recce_trio.core.artifacts.records import Catalog, CatalogMetadata, CatalogTable

# 0 stands for the catalogs of dbt before 0.19, which carry no metadata. dbt has written
# catalog v1 ever since, dbt Fusion included.
SUPPORTED_CATALOG_VERSIONS: tuple[int, ...] = (0, 1)


def decode_catalog(data: Document, *, path: Path | str) -> Catalog:
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


CATALOG_SECTIONS = ("nodes", "sources")
TableChunk = tuple[str, list[tuple[str, CatalogTable]]]


class _Skeleton(msgspec.Struct):
    """A catalog whose tables are left as raw JSON, to be decoded a few at a time."""

    metadata: CatalogMetadata = msgspec.field(default_factory=CatalogMetadata)
    nodes: dict[str, msgspec.Raw] = {}
    sources: dict[str, msgspec.Raw] = {}


_skeleton = msgspec.json.Decoder(_Skeleton)
_table = msgspec.json.Decoder(CatalogTable)


def iter_catalog(
    data: Document, *, path: Path | str, chunk: int = 256
) -> Iterator[Catalog | TableChunk]:
    """The same content as ``decode_catalog``, delivered in pieces: first the catalog with no
    tables, then ``(section, [(unique_id, table), ...])`` chunks. Each step is one short call
    into the decoder, so a server thread decoding a catalog this way never holds the GIL for
    long (the whole file at once would hold it for ~100 ms at 13 MB)."""
    head = sniff_head(data)
    if head is None or head.schema_version == 0:
        # Before v1 (or metadata last): decode whole, as decode_catalog does.
        whole = decode_catalog(data, path=path)
        yield msgspec.structs.replace(whole, nodes={}, sources={})
        for name in CATALOG_SECTIONS:
            items = list(getattr(whole, name).items())
            for start in range(0, len(items), chunk):
                yield name, items[start : start + chunk]
        return
    version = check_artifact(head, want="catalog", supported=SUPPORTED_CATALOG_VERSIONS, path=path)
    try:
        skeleton = _skeleton.decode(data)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise explain_failure(
            exc, data, want="catalog", supported=SUPPORTED_CATALOG_VERSIONS, path=path
        ) from None
    yield Catalog(metadata=skeleton.metadata, schema_version=version)
    for name in CATALOG_SECTIONS:
        pending = iter(getattr(skeleton, name).items())
        while batch := list(itertools.islice(pending, chunk)):
            try:
                tables = [(uid, _table.decode(raw)) for uid, raw in batch]
            except (msgspec.DecodeError, RecursionError) as exc:
                raise explain_failure(
                    exc, data, want="catalog", supported=SUPPORTED_CATALOG_VERSIONS, path=path
                ) from None
            yield name, tables


def read_catalog_in_pieces(
    path: Path, *, between: Callable[[], None] | None = None, chunk: int = 256
) -> Catalog:
    """``read_catalog``, decoded a few tables at a time (``iter_catalog``); ``between`` runs
    after each piece (a server's loader uses it to notice that it should stop)."""
    pieces = iter_catalog(read_artifact_bytes(path, kind="catalog"), path=path, chunk=chunk)
    catalog = next(pieces)
    assert isinstance(catalog, Catalog)
    for piece in pieces:
        assert isinstance(piece, tuple)
        section, tables = piece
        getattr(catalog, section).update(tables)
        if between is not None:
            between()
    return catalog
