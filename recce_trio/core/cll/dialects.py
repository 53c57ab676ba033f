"""Which sqlglot dialect reads the SQL of a dbt adapter."""

from __future__ import annotations

# dbt adapter_type -> sqlglot dialect name. Adapters whose SQL is another engine's dialect are
# mapped to it (Recce passes the adapter name to sqlglot as is, so sqlserver, synapse and glue
# fall back to sqlglot's generic dialect there).
_ADAPTER_DIALECTS = {
    "athena": "athena",
    "bigquery": "bigquery",
    "clickhouse": "clickhouse",
    "databricks": "databricks",
    "doris": "doris",
    "dremio": "dremio",
    "duckdb": "duckdb",
    "exasol": "exasol",
    "fabric": "fabric",
    "glue": "spark",
    "hive": "hive",
    "impala": "hive",
    "materialize": "materialize",
    "motherduck": "duckdb",
    "mysql": "mysql",
    "mariadb": "mysql",
    "oracle": "oracle",
    "postgres": "postgres",
    "presto": "presto",
    "redshift": "redshift",
    "risingwave": "risingwave",
    "singlestore": "singlestore",
    "snowflake": "snowflake",
    "spark": "spark",
    "sqlite": "sqlite",
    "sqlserver": "tsql",
    "starrocks": "starrocks",
    "synapse": "tsql",
    "teradata": "teradata",
    "trino": "trino",
    "starburst": "trino",
    "tsql": "tsql",
    "alloydb": "postgres",
    "cratedb": "postgres",
    "greenplum": "postgres",
    "timescaledb": "postgres",
}


def sqlglot_dialect(adapter_type: str | None) -> str:
    """The sqlglot dialect for a manifest's ``metadata.adapter_type``; "" (sqlglot's generic
    dialect) when the adapter is unknown or missing."""
    if not adapter_type:
        return ""
    return _ADAPTER_DIALECTS.get(adapter_type.strip().lower(), "")
