"""Which warehouse relation a model or source name means, in one environment's manifest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.errors import TemplateError

if TYPE_CHECKING:
    from recce_trio.core.artifacts.records import Catalog, Manifest, Node

REF_TYPES = ("model", "seed", "snapshot")


@dataclass(frozen=True)
class Relation:
    """A table or view: its quoted name for SQL (``str()``) and the node it comes from."""

    sql: str
    database: str | None
    schema: str | None
    identifier: str
    name: str
    unique_id: str
    resource_type: str
    materialized: str | None

    def __str__(self) -> str:
        return self.sql


class RelationResolver:
    """Resolves ``ref()`` and ``source()`` in one manifest (base or current)."""

    def __init__(self, manifest: Manifest, dialect: SqlDialect, *, env_name: str) -> None:
        self.manifest = manifest
        self.dialect = dialect
        self.env_name = env_name  # "base" or "current", for messages

    def find_model(
        self, name: str, *, package: str | None = None, version: str | int | None = None
    ) -> Node | None:
        """The node ``ref(package, name, v=version)`` points at, or None if there is none."""
        matches = [
            n
            for n in self.manifest.nodes.values()
            if n.name == name
            and n.resource_type in REF_TYPES
            and (package is None or n.package_name == package)
        ]
        if version is not None:
            matches = [n for n in matches if str(n.version) == str(version)]
        elif len(matches) > 1:
            latest = [n for n in matches if n.version is not None and n.version == n.latest_version]
            project = self.manifest.metadata.project_name
            matches = latest or [n for n in matches if n.package_name == project] or matches
        return matches[0] if matches else None

    def ref(
        self, name: str, *, package: str | None = None, version: str | int | None = None
    ) -> Relation:
        node = self.find_model(name, package=package, version=version)
        if node is None:
            label = f"{package}.{name}" if package else name
            if version is not None:
                label += f" (v{version})"
            raise TemplateError(
                f"Model '{label}' not found in the {self.env_name} manifest.",
                hint="Check the name, or rebuild that environment's artifacts.",
            )
        return self.relation(node)

    def source(self, source_name: str, table_name: str) -> Relation:
        for node in self.manifest.sources.values():
            if node.source_name == source_name and node.name == table_name:
                return self.relation(node)
        raise TemplateError(
            f"Source '{source_name}.{table_name}' not found in the {self.env_name} manifest."
        )

    def relation(self, node: Node) -> Relation:
        """The node's relation: its ``relation_name`` or its quoted database.schema.alias."""
        identifier = node.alias or node.identifier or node.name
        materialized = node.config.get("materialized") if node.config else None
        if materialized == "ephemeral":
            raise TemplateError(
                f"Model '{node.name}' is ephemeral: it has no relation in the warehouse."
            )
        sql = node.relation_name or self.dialect.relation(node.database, node.schema, identifier)
        return Relation(
            sql=sql,
            database=node.database,
            schema=node.schema,
            identifier=identifier,
            name=node.name,
            unique_id=node.unique_id,
            resource_type=node.resource_type,
            materialized=materialized,
        )


def catalog_column_types(manifest: Manifest, catalog: Catalog, model: str) -> dict[str, str]:
    """``{column: warehouse type}`` of a model in a catalog (empty if it is not there): what
    ``RunContext.catalog_types`` wants, to label float columns as Recce does."""
    resolver = RelationResolver(manifest, SqlDialect(""), env_name="current")
    node = resolver.find_model(model)
    table = catalog.nodes.get(node.unique_id) if node is not None else None
    if table is None:
        return {}
    return {c.name or name: c.type or "" for name, c in table.columns.items()}
