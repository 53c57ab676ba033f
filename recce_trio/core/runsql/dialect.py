"""The SQL pieces that differ between warehouses, produced with sqlglot for each dialect."""

from __future__ import annotations

from functools import cached_property

import sqlglot
from sqlglot import exp

# dbt adapter type -> sqlglot dialect name (the adapter type itself when they agree).
_ADAPTER_DIALECTS = {
    "postgresql": "postgres",
    "sqlserver": "tsql",
    "synapse": "tsql",
    "fabric": "tsql",
    "glue": "spark",
    "spark": "spark",
    "databricks": "databricks",
    "athena": "athena",
}


def dialect_for(adapter_type: str | None) -> str:
    """The sqlglot dialect of a dbt adapter type; '' (sqlglot's generic SQL) if unknown."""
    name = (adapter_type or "").lower()
    name = _ADAPTER_DIALECTS.get(name, name)
    try:
        sqlglot.Dialect.get_or_raise(name)
    except ValueError:
        return ""
    return name


class SqlDialect:
    """Identifier quoting, literals, casts and the few functions whose spelling differs."""

    def __init__(self, name: str) -> None:
        self.name = dialect_for(name) if name else ""

    def __repr__(self) -> str:
        return f"SqlDialect({self.name!r})"

    def quote(self, identifier: str) -> str:
        return exp.to_identifier(identifier, quoted=True).sql(self.name)

    def relation(self, database: str | None, schema: str | None, identifier: str) -> str:
        parts = [p for p in (database, schema) if p]
        return ".".join(self.quote(p) for p in [*parts, identifier])

    def string(self, value: str) -> str:
        return exp.Literal.string(value).sql(self.name)

    def number(self, value: object) -> str:
        return exp.Literal.number(str(value)).sql(self.name)

    @cached_property
    def text_type(self) -> str:
        return exp.DataType.build("text").sql(self.name)

    @cached_property
    def double_type(self) -> str:
        return exp.DataType.build("double").sql(self.name)

    @cached_property
    def bigint_type(self) -> str:
        return exp.DataType.build("bigint").sql(self.name)

    def cast_text(self, sql: str) -> str:
        return f"CAST({sql} AS {self.text_type})"

    def cast_double(self, sql: str) -> str:
        return f"CAST({sql} AS {self.double_type})"

    def cast_bigint(self, sql: str) -> str:
        return f"CAST({sql} AS {self.bigint_type})"

    def true(self) -> str:
        return "TRUE"

    def false(self) -> str:
        return "FALSE"

    def median(self, sql: str) -> str:
        """An exact or approximate median, as each warehouse spells it."""
        if self.name in ("postgres", "redshift"):
            return f"PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {sql})"
        if self.name == "bigquery":
            return f"APPROX_QUANTILES({sql}, 100)[OFFSET(50)]"
        if self.name in ("trino", "presto", "athena"):
            return f"APPROX_PERCENTILE({sql}, 0.5)"
        if self.name == "tsql":
            return f"MAX(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {sql}) OVER ())"
        return f"MEDIAN({sql})"

    def date_trunc(self, unit: str, sql: str, *, is_date: bool = False) -> str:
        """Truncate a date (``is_date``) or timestamp to the start of its year, month or day."""
        if not self.name:
            return f"DATE_TRUNC({self.string(unit.lower())}, {sql})"
        this = sqlglot.parse_one(sql, read=self.name)
        kind = exp.DateTrunc if is_date else exp.TimestampTrunc
        return kind(this=this, unit=exp.var(unit.upper())).sql(self.name)

    @property
    def joins_not_distinct(self) -> bool:
        """Whether a FULL JOIN on ``IS NOT DISTINCT FROM`` runs as a hash join (DuckDB).
        PostgreSQL refuses it (not hash- or merge-joinable); others are not relied on."""
        return self.name == "duckdb"

    def except_distinct(self) -> str:
        return "EXCEPT DISTINCT" if self.name == "bigquery" else "EXCEPT"

    def intersect_distinct(self) -> str:
        return "INTERSECT DISTINCT" if self.name == "bigquery" else "INTERSECT"

    def limit(self, sql: str, n: int) -> str:
        """``sql`` (a full SELECT) with at most ``n`` rows."""
        if self.name == "tsql":
            return f"SELECT TOP {int(n)} * FROM ({sql}) AS _recce_limited"
        return f"{sql} LIMIT {int(n)}"
