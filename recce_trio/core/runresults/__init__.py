"""Run results in Recce's wire shapes: DataFrames, value typing and serialisation, upgrades."""

from recce_trio.core.runresults.frames import (
    COLUMN_TYPES,
    column_type,
    dataframe,
    serialise,
    upgrade_dataframe,
    upgrade_run_result,
)

__all__ = [
    "COLUMN_TYPES",
    "column_type",
    "dataframe",
    "serialise",
    "upgrade_dataframe",
    "upgrade_run_result",
]
