"""Opening the engine a profile target asks for: native DuckDB or PostgreSQL, else dbt."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recce_trio.warehouse.engine import Engine
    from recce_trio.warehouse.profiles import WarehouseTarget

# The adapter types with a native engine; every other type goes through the dbt extra.
NATIVE_TYPES = frozenset({"duckdb", "postgres", "postgresql"})


def open_engine(
    target: WarehouseTarget, *, duckdb_external_access: bool = False, use_dbt: bool = False
) -> Engine:
    """Open the engine for a profile target: DuckDB and PostgreSQL natively, every other
    adapter through dbt (the ``dbt`` extra); ``use_dbt`` takes the dbt path for those two as
    well. Blocks (it connects): call it off the event loop. Drivers are imported here, on
    first use."""
    if use_dbt:
        from recce_trio.warehouse.dbt_engine import open_dbt_adapter

        return open_dbt_adapter(target)
    if target.type == "duckdb":
        from recce_trio.warehouse.duckdb_engine import open_duckdb

        return open_duckdb(target, external_access=duckdb_external_access)
    if target.type in ("postgres", "postgresql"):
        from recce_trio.warehouse.postgres_engine import open_postgres

        return open_postgres(target)
    from recce_trio.warehouse.dbt_engine import open_dbt_adapter

    return open_dbt_adapter(target)
