"""Pure, synchronous readers: dbt artifact bytes -> typed, compact records (no I/O framework)."""

from recce_trio.core.artifacts.catalog import (
    SUPPORTED_CATALOG_VERSIONS,
    decode_catalog,
    read_catalog,
)
from recce_trio.core.artifacts.manifest import (
    SUPPORTED_MANIFEST_VERSIONS,
    decode_manifest,
    read_manifest,
)
from recce_trio.core.artifacts.records import Catalog, Manifest

__all__ = [
    "SUPPORTED_CATALOG_VERSIONS",
    "SUPPORTED_MANIFEST_VERSIONS",
    "Catalog",
    "Manifest",
    "decode_catalog",
    "decode_manifest",
    "read_catalog",
    "read_manifest",
]
