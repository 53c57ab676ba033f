"""The warehouse the settings ask for: the profile target (or none), and opening it."""

from __future__ import annotations

import functools
import importlib.metadata
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recce_trio.core import runs
from recce_trio.core.artifactset import LoadedArtifacts
from recce_trio.core.diff import LineageDiff
from recce_trio.core.runsql.relations import catalog_column_types
from recce_trio.warehouse.context import ProgressCallback, RunContext
from recce_trio.warehouse.engine import CancelToken, Engine
from recce_trio.warehouse.profiles import WarehouseTarget
from recce_trio.warehouse.profiles import resolve_target as resolve_target


def open_configured(
    target: WarehouseTarget, external_access: bool, demo: bool, use_dbt: bool = False
) -> Engine:
    """Open the target's engine (the demo's database built first if need be); ``use_dbt``
    (``--dbt-adapter``) opens DuckDB and PostgreSQL through dbt too. Blocks."""
    from recce_trio.warehouse.connect import open_engine

    if demo:
        from recce_trio.demo.build_db import ensure_demo_db

        ensure_demo_db()
    return open_engine(target, duckdb_external_access=external_access, use_dbt=use_dbt)


def run_context(
    artifacts: LoadedArtifacts,
    lineage_diff: LineageDiff,
    engine: Engine,
    target: WarehouseTarget | None,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    sources: Mapping[tuple[str, str], Path | bytes | None] | None = None,
) -> RunContext:
    """What one run of a review needs: both manifests, the catalog's column types, selectors
    over the review's lineage, and the target's vars (its credentials stay out).

    ``sources`` (the review's artifact sources, keyed ``(env, kind)``) gives a dbt engine each
    environment's manifest.json for the project's and packages' macros; a native engine
    refuses macros, saying how to use them."""
    catalog = artifacts.current_catalog

    def catalog_types(model: str) -> Mapping[str, str]:
        if catalog is None:
            return {}
        return catalog_column_types(artifacts.current_manifest, catalog, model)

    def select_nodes(params: Mapping[str, Any]) -> list[str]:
        return runs.selected_nodes(lineage_diff, dict(params))

    ctx = RunContext(
        base=artifacts.base_manifest,
        current=artifacts.current_manifest,
        engine=engine,
        cancel=cancel or CancelToken(),
        project_vars=target.project_vars if target is not None else {},
        env=dict(os.environ),
        target=target.template_target() if target is not None else {},
        catalog_types=catalog_types,
        select_nodes=select_nodes,
    )
    if progress is not None:
        ctx.progress = progress
    macro_provider = getattr(engine, "macro_provider", None)
    if macro_provider is not None and sources is not None:
        manifests = {env: sources.get((env, "manifest")) for env in ("base", "current")}
        ctx.macros = macro_provider(manifests, ctx.cancel)
    elif macro_provider is None:
        ctx.macro_hint = native_macro_hint(engine)
    return ctx


def native_macro_hint(engine: Engine) -> str:
    """How to call macros when the engine is a native one: with ``--dbt-adapter`` if the dbt
    extra is installed, else by installing it (empty: the default hint says so)."""
    if not _dbt_installed():
        return ""
    return (
        f"The warehouse runs on recce-trio's own {engine.dialect} engine, which has no dbt "
        "macros: start recce-trio with --dbt-adapter (RECCE_DBT_ADAPTER=true) to run it "
        "through your dbt adapter, with the manifest's macros."
    )


@functools.cache
def _dbt_installed() -> bool:
    """Whether dbt-core is installed (its metadata only: dbt is not imported)."""
    try:
        importlib.metadata.version("dbt-core")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True
