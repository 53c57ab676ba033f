"""Parse a model's SQL, point its tables at dbt nodes, and qualify it with sqlglot.

Every table that is a dbt relation is renamed to a name made from its unique_id (the same in
both environments, so base and current SQL compare equal when only schemas differ), keeping
the name it had as its alias so that qualified column references still resolve.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from recce_trio.core.cll.relations import RelationIndex
from recce_trio.core.cll.source import placeholder

# sqlglot logs a warning for every construct it cannot scope or transpile; the analysis reports
# those as reasons on the node instead, so a large project does not flood the server log.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


class CllError(Exception):
    """The SQL cannot be analysed; the message is the reason shown to the user."""


@dataclass(slots=True)
class Prepared:
    """A qualified query. ``tables`` maps the canonical table names (lower case) to unique_ids,
    ``ephemeral`` the injected ``__dbt__cte__`` CTE names (lower case) to theirs."""

    expression: exp.Query
    dialect: Dialect
    tables: dict[str, str] = field(default_factory=dict)
    ephemeral: dict[str, str] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    qualified: bool = True


@lru_cache(maxsize=64)
def get_dialect(name: str) -> Dialect:
    dialect = Dialect.get_or_raise(name or None)
    # qualify asks whether an identifier is case sensitive once per identifier, again and
    # again for the same few thousand names (a tenth of a model's analysis): remember the
    # answers (a pure function of the text for a given dialect).
    dialect.case_sensitive = lru_cache(maxsize=1 << 16)(dialect.case_sensitive)  # type: ignore[method-assign]
    return dialect


def parse_query(sql: str, dialect: Dialect) -> exp.Query:
    """The last query statement of ``sql`` (dbt models may carry statements before it)."""
    try:
        statements = sqlglot.parse(sql, dialect=dialect)
    except SqlglotError as exc:
        raise CllError(f"the SQL does not parse: {_first_line(exc)}") from None
    except RecursionError:
        raise CllError("the SQL is nested too deeply to parse") from None
    for statement in reversed(statements):
        if isinstance(statement, exp.Query):
            return statement
        inner = statement.expression if statement is not None else None
        if isinstance(statement, (exp.Create, exp.Insert)) and isinstance(inner, exp.Query):
            return inner
    raise CllError("the SQL has no SELECT statement")


def prepare(
    sql: str,
    *,
    dialect: str,
    parents: Sequence[str],
    index: RelationIndex,
    refs: Mapping[str, str],
    columns_of: Callable[[str], Mapping[str, str]],
) -> Prepared:
    """Parse, map tables to nodes, qualify. Raises ``CllError`` with the reason."""
    dia = get_dialect(dialect)
    query = parse_query(sql, dia)
    prepared = Prepared(query, dia)
    ctes = {cte.alias_or_name.lower(): cte for cte in query.find_all(exp.CTE)}
    for name in ctes:
        uid = index.ephemeral(name, parents)
        if uid is not None:
            prepared.ephemeral[name] = uid
    schema: dict[str, object] = {}
    for table in list(query.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function
        name = table.name
        if not table.db and name.lower() in ctes:
            continue
        uid = refs.get(name.lower()) if not table.db else None
        if uid is None and not table.db:
            # An ephemeral model that dbt did not inject as a CTE (older dbt's compiled_sql).
            uid = index.ephemeral(name, parents)
        if uid is None:
            uid = index.resolve(name, table.db or None, table.catalog or None, parents)
        if uid is None:
            prepared.unresolved.append(table.sql(dialect=dia))
            continue
        canon = placeholder(uid)
        prepared.tables[canon] = uid
        if not table.alias:
            table.set("alias", exp.TableAlias(this=table.this.copy()))
        table.set("this", exp.to_identifier(canon))
        table.set("db", None)
        table.set("catalog", None)
        key = dia.normalize_identifier(exp.to_identifier(canon)).name
        if key not in schema:
            columns = columns_of(uid)
            if columns:
                schema[key] = _normalized(dia, columns)
    prepared.expression = _qualify(prepared, schema)
    return prepared


def _normalized(dia: Dialect, columns: Mapping[str, str]) -> dict[str, str]:
    """Catalog column names as the dialect's identifier normalisation leaves them in the query:
    warehouses that fold case store unquoted names already folded, so only case-insensitive
    dialects need folding here (done once, instead of sqlglot normalising the schema)."""
    strategy = dia.NORMALIZATION_STRATEGY
    if strategy == NormalizationStrategy.CASE_INSENSITIVE:
        return {name.lower(): ctype for name, ctype in columns.items()}
    if strategy == NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE:
        return {name.upper(): ctype for name, ctype in columns.items()}
    return dict(columns)


def _qualify(prepared: Prepared, schema: dict[str, object]) -> exp.Query:
    """Qualify in place with the parents' columns; if sqlglot gives up, once more without
    them (columns then resolve only where the SQL itself says where they come from)."""
    dia = prepared.dialect
    error: BaseException | None = None
    for attempt in (schema or None, None) if schema else (None,):
        try:
            result = qualify(
                prepared.expression,
                dialect=dia,
                schema=MappingSchema(attempt, dialect=dia, normalize=False) if attempt else None,
                validate_qualify_columns=False,
                allow_partial_qualification=True,
                quote_identifiers=False,
                identify=False,
            )
        except SqlglotError as exc:
            error = exc
            prepared.qualified = False
            continue
        except RecursionError:
            raise CllError("the SQL is nested too deeply to analyse") from None
        if not isinstance(result, exp.Query):  # pragma: no cover - qualify keeps the type
            raise CllError("the SQL has no SELECT statement")
        return result
    assert error is not None
    raise CllError(f"sqlglot cannot resolve the query's columns: {_first_line(error)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line[:300]
