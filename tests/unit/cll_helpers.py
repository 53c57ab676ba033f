"""Small projects for the column-lineage tests: a model reading parent models whose columns
the catalog lists, in any adapter's dialect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from recce_trio.core.artifacts.records import Catalog, Manifest
from recce_trio.core.cll.api import CllProject
from tests.unit import factories as f

Cols = Sequence[tuple[str, str]]


def build(
    models: Mapping[str, str],
    parents: Mapping[str, Cols],
    *,
    adapter: str = "duckdb",
    catalog: Mapping[str, Cols] | None = None,
    compiled: bool = True,
    sources: Mapping[str, Cols] | None = None,
    configs: Mapping[str, dict[str, Any]] | None = None,
) -> tuple[Manifest, Catalog]:
    """``models`` maps a model name to its SQL (compiled_code, or raw_code when ``compiled`` is
    false); ``parents`` are tables (models named so, in schema ``analytics``) every model reads;
    ``sources`` are ``raw.<name>`` sources; ``catalog`` gives the models' own columns."""
    nodes = []
    for name in parents:
        parent = f.model(name, f"select * from {name}_raw")
        nodes.append(msgspec.structs.replace(parent, schema="analytics"))
    for name in sources or {}:
        nodes.append(f.source("raw", name))
    deps = [f"model.shop.{p}" for p in parents] + [f"source.shop.raw.{s}" for s in sources or {}]
    for name, sql in models.items():
        config = {"materialized": "table", **(configs or {}).get(name, {})}
        node = msgspec.structs.replace(
            f.model(name, sql, parents=deps, config=config), schema="analytics"
        )
        if compiled:
            node = msgspec.structs.replace(node, compiled_code=sql)
        nodes.append(node)
    manifest = f.manifest(*nodes)
    manifest.metadata.adapter_type = adapter
    cat_nodes = {f"model.shop.{n}": list(c) for n, c in parents.items()}
    cat_nodes.update({f"model.shop.{n}": list(c) for n, c in (catalog or {}).items()})
    cat_sources = {f"source.shop.raw.{n}": list(c) for n, c in (sources or {}).items()}
    return manifest, f.catalog(cat_nodes, cat_sources)


def lineage(
    sql: str,
    parents: Mapping[str, Cols],
    *,
    adapter: str = "duckdb",
    catalog: Cols | None = None,
    compiled: bool = True,
) -> dict[str, tuple[str, set[tuple[str, str]]]]:
    """``{column: (transformation_type, {(parent name, parent column)})}`` of model ``m``."""
    manifest, cat = build(
        {"m": sql},
        parents,
        adapter=adapter,
        catalog={"m": catalog} if catalog else None,
        compiled=compiled,
    )
    project = CllProject(manifest, cat, manifest, cat, changes={})
    entry = project.node("model.shop.m")
    assert entry is not None
    return {
        name: (col.kind, {(uid.split(".")[-1], c) for uid, c in col.parents})
        for name, col in entry.columns.items()
    }


def row_parents(sql: str, parents: Mapping[str, Cols], *, adapter: str = "duckdb") -> set[str]:
    manifest, cat = build({"m": sql}, parents, adapter=adapter)
    entry = CllProject(manifest, cat, manifest, cat, changes={}).node("model.shop.m")
    assert entry is not None
    return {f"{uid.split('.')[-1]}.{c}" for uid, c in entry.row_parents}


def reason(sql: str, parents: Mapping[str, Cols], **kwargs: Any) -> str | None:
    manifest, cat = build({"m": sql}, parents, **kwargs)
    entry = CllProject(manifest, cat, manifest, cat, changes={}).node("model.shop.m")
    assert entry is not None
    return entry.reason


def change(
    base_sql: str,
    current_sql: str,
    parents: Mapping[str, Cols],
    *,
    adapter: str = "duckdb",
    base_catalog: Cols | None = None,
    current_catalog: Cols | None = None,
    base_config: dict[str, Any] | None = None,
    current_config: dict[str, Any] | None = None,
) -> tuple[str, dict[str, str] | None]:
    """(category, columns) of model ``m`` changed from ``base_sql`` to ``current_sql``."""
    base = build(
        {"m": base_sql},
        parents,
        adapter=adapter,
        catalog={"m": base_catalog} if base_catalog else None,
        configs={"m": base_config or {}},
    )
    current = build(
        {"m": current_sql},
        parents,
        adapter=adapter,
        catalog={"m": current_catalog} if current_catalog else None,
        configs={"m": current_config or {}},
    )
    project = CllProject(*base, *current, changes={"model.shop.m": "modified"})
    result = project.change("model.shop.m")
    assert result is not None
    return result.category, result.columns
