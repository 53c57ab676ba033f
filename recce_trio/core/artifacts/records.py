"""Compact, typed records of a dbt manifest and catalog: only the fields recce-trio uses.

These structs are both what JSON is decoded into (msgspec skips every field not declared
here, which is most of a manifest's bytes) and what the server keeps in memory. Field names
follow dbt's own; older schema versions are normalised into them by ``__post_init__``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import msgspec

# Resource types that the lineage shows as nodes (besides sources, exposures, metrics,
# semantic models).
LINEAGE_NODE_TYPES = frozenset({"model", "seed", "snapshot"})
# dbt's TestConfig.same_contents compares only these config keys of a generic test.
TEST_CONFIG_MODIFIERS = (
    "severity",
    "where",
    "limit",
    "fail_calc",
    "warn_if",
    "error_if",
    "store_failures",
    "store_failures_as",
)


# omit_defaults keeps the msgpack frames that decoder processes send (server/decoders.py) small.
class Checksum(msgspec.Struct, frozen=True, gc=False):
    name: str = ""
    checksum: str = ""


class DependsOn(msgspec.Struct, gc=False, omit_defaults=True):
    if TYPE_CHECKING:
        nodes: list[str] = []
        macros: list[str] = []
    else:
        # dbt 1.5 wrote null into some generic tests' depends_on.macros; dropped below.
        nodes: list[str | None] = []
        macros: list[str | None] = []

    def __post_init__(self) -> None:
        if not all(self.nodes):
            self.nodes = [uid for uid in self.nodes if uid]
        if not all(self.macros):
            self.macros = [uid for uid in self.macros if uid]


class ColumnInfo(msgspec.Struct, gc=False, omit_defaults=True):
    """A column as documented in the manifest (YAML), not as built (that is the catalog)."""

    name: str = ""
    description: str = ""
    data_type: str | None = None
    constraints: list[dict[str, Any]] = []


class TestMetadata(msgspec.Struct, gc=False, omit_defaults=True):
    name: str = ""
    namespace: str | None = None
    kwargs: dict[str, Any] = {}


class Node(msgspec.Struct, gc=False, omit_defaults=True):
    """Any graph member of a manifest: model, seed, snapshot, test, analysis, operation,
    source, exposure, metric, semantic model, saved query or unit test.

    Fields that a resource type lacks keep their defaults.
    """

    unique_id: str
    resource_type: str = ""
    name: str = ""
    package_name: str = ""
    path: str = ""
    original_file_path: str = ""
    fqn: list[str] = []
    database: str | None = None
    schema: str | None = None
    alias: str | None = None
    identifier: str | None = None
    relation_name: str | None = None
    tags: list[str] = []
    config: dict[str, Any] = {}
    unrendered_config: dict[str, Any] = {}
    if TYPE_CHECKING:
        checksum: Checksum | None = None
    else:
        # Unit tests (manifest v12) keep a bare sha256 string; made a Checksum below.
        checksum: Checksum | str | None = None
    raw_code: str | None = None
    raw_sql: str | None = None  # before manifest v7; moved into raw_code
    # The SQL dbt compiled (``dbt compile``/``docs generate``; absent after ``dbt parse``),
    # read by column-level lineage. Kept as decoded: one string per model, never copied.
    compiled_code: str | None = None
    compiled_sql: str | None = None  # before manifest v7; moved into compiled_code
    language: str | None = None
    description: str = ""
    columns: dict[str, ColumnInfo] = {}
    contract: dict[str, Any] | None = None
    access: str | None = None
    version: str | int | float | None = None
    latest_version: str | int | float | None = None
    deprecation_date: str | None = None
    depends_on: DependsOn = msgspec.field(default_factory=DependsOn)
    group: str | None = None
    # tests
    test_metadata: TestMetadata | None = None
    column_name: str | None = None
    attached_node: str | None = None
    # sources
    source_name: str | None = None
    source_description: str = ""
    loader: str = ""
    loaded_at_field: str | None = None
    freshness: dict[str, Any] | None = None
    external: dict[str, Any] | None = None
    quoting: dict[str, Any] | None = None
    # exposures, metrics, semantic models
    type: str | None = None
    label: str | None = None
    owner: dict[str, Any] | None = None
    maturity: str | None = None
    url: str | None = None
    meta: dict[str, Any] = {}
    # The fields below are what dbt's state:modified compares (recce_trio.core.diff) and what the
    # path: selector reads; names are dbt's.
    patch_path: str | None = None  # "<package>://<path of the YAML that documents the node>"
    unrendered_database: str | None = None  # sources, dbt >= 1.9
    unrendered_schema: str | None = None  # sources, dbt >= 1.9
    # semantic models (``model`` also names a unit test's model)
    model: str | None = None
    defaults: dict[str, Any] | None = None
    entities: list[Any] = []
    dimensions: list[Any] = []
    measures: list[Any] = []
    primary_entity: str | None = None
    # saved queries
    query_params: dict[str, Any] | None = None
    exports: list[Any] = []

    def __post_init__(self) -> None:
        if isinstance(self.checksum, str):
            self.checksum = Checksum(name="sha256", checksum=self.checksum)
        if self.raw_code is None and self.raw_sql is not None:
            self.raw_code = self.raw_sql
        self.raw_sql = None
        if self.compiled_code is None and self.compiled_sql is not None:
            self.compiled_code = self.compiled_sql
        self.compiled_sql = None


class Macro(msgspec.Struct, gc=False, omit_defaults=True):
    """A macro, with its SQL reduced to a digest: only equality matters (state:modified.macros)."""

    unique_id: str
    name: str = ""
    package_name: str = ""
    original_file_path: str = ""
    depends_on: DependsOn = msgspec.field(default_factory=DependsOn)
    macro_sql: str = ""
    sql_digest: str = ""

    def __post_init__(self) -> None:
        if self.macro_sql:
            self.sql_digest = hashlib.blake2b(self.macro_sql.encode(), digest_size=16).hexdigest()
            self.macro_sql = ""


class ManifestMetadata(msgspec.Struct, gc=False):
    dbt_schema_version: str | None = None
    dbt_version: str | None = None
    generated_at: str | None = None
    invocation_id: str | None = None
    env: dict[str, Any] | None = None
    project_name: str | None = None
    project_id: str | None = None
    user_id: str | None = None
    send_anonymous_usage_stats: bool | None = None
    adapter_type: str | None = None


class Manifest(msgspec.Struct, gc=False):
    """A decoded manifest. ``schema_version`` is the number of the dbt schema (0 before v1)."""

    metadata: ManifestMetadata = msgspec.field(default_factory=ManifestMetadata)
    nodes: dict[str, Node] = {}
    sources: dict[str, Node] = {}
    exposures: dict[str, Node] = {}
    metrics: dict[str, Node] = {}
    semantic_models: dict[str, Node] = {}
    saved_queries: dict[str, Node] = {}
    unit_tests: dict[str, Node] = {}
    functions: dict[str, Node] = {}  # user-defined functions, dbt 1.11+ (manifest v12)
    macros: dict[str, Macro] = {}
    schema_version: int = 0

    def lineage_sections(self) -> tuple[dict[str, Node], ...]:
        """The sections whose members the lineage shows, in the order an id is looked up."""
        return (self.nodes, self.sources, self.exposures, self.metrics, self.semantic_models)

    def lineage_record(self, unique_id: str) -> Node | None:
        """The record of a node, source, exposure, metric or semantic model; None if none."""
        for section in self.lineage_sections():
            record = section.get(unique_id)
            if record is not None:
                return record
        return None

    def all_nodes(self) -> dict[str, Node]:
        """Every graph member keyed by unique_id (nodes, sources, exposures, metrics, ...)."""
        merged: dict[str, Node] = {}
        for part in (
            self.nodes,
            self.sources,
            self.exposures,
            self.metrics,
            self.semantic_models,
            self.saved_queries,
            self.unit_tests,
            self.functions,
        ):
            merged.update(part)
        return merged


class CatalogColumn(msgspec.Struct, gc=False, omit_defaults=True):
    name: str = ""
    type: str | None = None
    index: int = 0
    comment: str | None = None


class TableMetadata(msgspec.Struct, gc=False, omit_defaults=True):
    type: str | None = None
    schema: str | None = None
    name: str | None = None
    database: str | None = None
    comment: str | None = None
    owner: str | None = None


class CatalogTable(msgspec.Struct, gc=False, omit_defaults=True):
    unique_id: str | None = None
    metadata: TableMetadata = msgspec.field(default_factory=TableMetadata)
    columns: dict[str, CatalogColumn] = {}


class CatalogMetadata(msgspec.Struct, gc=False):
    dbt_schema_version: str | None = None
    dbt_version: str | None = None
    generated_at: str | None = None
    invocation_id: str | None = None
    env: dict[str, Any] | None = None


class Catalog(msgspec.Struct, gc=False):
    """A decoded catalog. ``schema_version`` is the number of the dbt schema (0 before v1)."""

    metadata: CatalogMetadata = msgspec.field(default_factory=CatalogMetadata)
    nodes: dict[str, CatalogTable] = {}
    sources: dict[str, CatalogTable] = {}
    schema_version: int = 1
