"""Breaking-change analysis of hand-written SQL changes, with the expected category and changed
columns written by hand (Recce's rules, and where they are wrong, ours: see docs/api.md)."""

from __future__ import annotations

import pytest

from recce_trio.core.cll.api import CllProject
from tests.unit.cll_helpers import Cols, build, change

T = {"t": [("a", "int"), ("b", "int"), ("c", "int"), ("x", "int")]}
TU = {**T, "u": [("x", "int"), ("y", "int")]}
ADAPTERS = ["duckdb", "postgres", "snowflake", "bigquery", "databricks", "spark", "redshift"]


def upper(parents: dict[str, Cols]) -> dict[str, Cols]:
    return {n: [(c.upper(), t) for c, t in cols] for n, cols in parents.items()}


def case(
    adapter: str, base: str, current: str, parents: dict[str, Cols] = T
) -> tuple[str, dict[str, str] | None]:
    """The change in ``adapter``'s dialect; on Snowflake the catalog (and so the answer) is
    upper case."""
    if adapter == "snowflake":
        category, columns = change(base, current, upper(parents), adapter=adapter)
        return category, {k.lower(): v for k, v in (columns or {}).items()}
    return change(base, current, parents, adapter=adapter)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_battery_in_every_dialect(adapter: str) -> None:
    def check(
        base: str,
        current: str,
        category: str,
        columns: dict[str, str],
        parents: dict[str, Cols] = T,
    ) -> None:
        assert case(adapter, base, current, parents) == (category, columns), (base, current)

    # added column
    check("select a, b from t", "select a, b, c from t", "non_breaking", {"c": "added"})
    # removed column
    check("select a, b, c from t", "select a, b from t", "partial_breaking", {"c": "removed"})
    # renamed column
    check(
        "select a, b from t",
        "select a, b as b2 from t",
        "partial_breaking",
        {"b2": "added", "b": "removed"},
    )
    # changed expression
    check(
        "select a, b from t", "select a, b + 1 as b from t", "partial_breaking", {"b": "modified"}
    )
    # changed filter
    check("select a, b from t where a > 1", "select a, b from t where a > 2", "breaking", {})
    # changed join
    check(
        "select t.a, u.y from t left join u on t.x = u.x",
        "select t.a, u.y from t inner join u on t.x = u.x",
        "breaking",
        {},
        TU,
    )
    # changed group by
    check(
        "select a, b, sum(c) as s from t group by a, b",
        "select a, b, sum(c) as s from t group by a, b, x",
        "breaking",
        {},
    )
    # distinct: a new column changes which rows are distinct
    check("select distinct a from t", "select distinct a, b from t", "breaking", {"b": "added"})
    # limit
    check("select a from t", "select a from t limit 10", "breaking", {})
    # a window column is only a new column
    check(
        "select a from t",
        "select a, row_number() over (order by a) as rn from t",
        "non_breaking",
        {"rn": "added"},
    )


def test_aggregation_added_is_breaking() -> None:
    assert change("select a, b from t", "select a, sum(b) as b from t group by a", T) == (
        "breaking",
        {"b": "modified"},
    )


def test_switching_the_source_table_modifies_every_column() -> None:
    parents = {"t": [("a", "int")], "u": [("a", "int")]}
    assert change("select a from t", "select a from u", parents) == ("breaking", {"a": "modified"})


def test_cte_changes_are_traced_to_the_output() -> None:
    cte = "with c as (select a, b from t) select * from c"
    assert change(cte, "with c as (select a, b * 2 as b from t) select * from c", T) == (
        "partial_breaking",
        {"b": "modified"},
    )
    assert change(cte, "with c as (select a, b, c from t) select * from c", T) == (
        "non_breaking",
        {"c": "added"},
    )
    assert change(cte, "with c as (select a, b from t where b > 0) select * from c", T) == (
        "breaking",
        {},
    )
    # A changed column used only in the outer filter changes the rows, not a column.
    assert change(
        "with c as (select a, b from t) select a from c where b > 0",
        "with c as (select a, b * 2 as b from t) select a from c where b > 0",
        T,
    ) == ("breaking", {})


def test_what_recce_calls_breaking_but_changes_nothing() -> None:
    # An unused CTE, a renamed CTE, a new ORDER BY without LIMIT, a comment, reformatting.
    assert change("select a from t", "with unused as (select 1 as one) select a from t", T) == (
        "non_breaking",
        {},
    )
    assert change(
        "with c as (select a from t) select a from c",
        "with d as (select a from t) select a from d",
        T,
    ) == ("non_breaking", {})
    assert change("select a, b from t", "select a, b from t order by a", T) == ("non_breaking", {})
    assert change("select a from t", "-- why\nSELECT\n    a\nFROM t", T) == ("non_breaking", {})
    # Moving an expression into a CTE keeps the column as it was.
    assert change(
        "select a + 1 as a1 from t", "with c as (select a + 1 as a1 from t) select a1 from c", T
    ) == (
        "non_breaking",
        {},
    )


def test_union_branches_compare_by_position() -> None:
    parents = {"t": [("a", "int"), ("b", "int")], "u": [("a", "int"), ("b", "int")]}
    assert change(
        "select a, b from t union all select a, b from u",
        "select a, b from t union all select a, b + 1 from u",
        parents,
    ) == ("partial_breaking", {"b": "modified"})
    assert change(
        "select a from t union all select a from u",
        "select a from t union select a from u",
        parents,
    ) == ("breaking", {})


def test_unnest_in_the_projection_multiplies_rows() -> None:
    assert change("select a from t", "select a, unnest([1, 2]) as n from t", T) == (
        "breaking",
        {"n": "added"},
    )


def test_unparsable_sql_is_unknown_without_columns() -> None:
    assert change("select a from t", "select (a from t", T) == ("unknown", None)


def test_config_that_changes_rows_is_breaking_other_config_is_not() -> None:
    sql = "select a from t"
    assert change(
        sql, sql, T, base_config={"unique_key": "a"}, current_config={"unique_key": "b"}
    ) == (
        "breaking",
        {},
    )
    assert change(sql, sql, T, base_config={"materialized": "view"}) == ("non_breaking", {})


def test_columns_take_the_catalog_spelling_and_catalog_only_changes_count() -> None:
    # select * over a parent that gained a column: the SQL is the same, the catalog is not.
    parents = {"t": [("ID", "NUMBER"), ("NAME", "TEXT")]}
    assert change(
        "select id, name from t",
        "select id, upper(name) as name from t",
        parents,
        adapter="snowflake",
        base_catalog=[("ID", "NUMBER"), ("NAME", "TEXT")],
        current_catalog=[("ID", "NUMBER"), ("NAME", "TEXT")],
    ) == ("partial_breaking", {"NAME": "modified"})
    assert change(
        "select * from t",
        "select * from t",
        T,
        base_catalog=[("a", "int"), ("b", "int")],
        current_catalog=[("a", "bigint"), ("b", "int"), ("c", "int")],
    ) == ("partial_breaking", {"a": "modified", "c": "added"})


def test_a_changed_source_or_seed() -> None:
    from recce_trio.core.cll.api import CllProject
    from tests.unit import factories as f

    src = f.source("raw", "orders")
    moved = f.replace(src, schema="raw_v2")
    base, cat = build({"m": "select a from t"}, T)
    base.sources[src.unique_id] = src
    current, _ = build({"m": "select a from t"}, T)
    current.sources[src.unique_id] = moved
    project = CllProject(base, cat, current, cat, changes={src.unique_id: "modified"})
    result = project.change(src.unique_id)
    assert result is not None and result.category == "breaking"
    assert result.reason == "the source points at another table"

    seed, reseeded = f.seed("codes", checksum="a"), f.seed("codes", checksum="b")
    base.nodes[seed.unique_id], current.nodes[seed.unique_id] = seed, reseeded
    project = CllProject(base, cat, current, cat, changes={seed.unique_id: "modified"})
    result = project.change(seed.unique_id)
    assert result is not None and (result.category, result.columns) == ("breaking", {})
    # Its rows changed: every model reading it may change (Recce: "unknown" for any seed).
    assert result.reason == "the seed's data changed"
    # dbt hashes a seed over 1 MiB by its path: a change of its rows cannot be seen.
    big = f.replace(seed, checksum=f.Checksum("path", "seeds/codes.csv"))
    retyped = f.replace(big, config={"enabled": True, "column_types": {"code": "text"}})
    base.nodes[seed.unique_id], current.nodes[seed.unique_id] = big, retyped
    project = CllProject(base, cat, current, cat, changes={seed.unique_id: "modified"})
    result = project.change(seed.unique_id)
    assert result is not None and (result.category, result.columns) == ("unknown", None)


def test_python_model_is_unknown_with_a_reason() -> None:
    from recce_trio.core.cll.api import CllProject
    from tests.unit import factories as f

    base, cat = build({"m": "select a from t"}, T)
    current, _ = build({"m": "select a from t"}, T)
    current.nodes["model.shop.m"] = f.replace(current.nodes["model.shop.m"], language="python")
    project = CllProject(base, cat, current, cat, changes={"model.shop.m": "modified"})
    result = project.change("model.shop.m")
    assert result is not None and result.category == "unknown" and result.columns is None
    assert "python" in (result.reason or "")


def test_changed_columns_the_catalog_does_not_have_are_left_out() -> None:
    # The SQL adds d and changes b, but the catalogs (built before d existed, say) name only
    # a and b: d is not a column of the node as far as the catalog knows.
    assert change(
        "select a, b from t",
        "select a, b + 1 as b, a + 1 as d from t",
        T,
        base_catalog=[("a", "int"), ("b", "int")],
        current_catalog=[("a", "int"), ("b", "int")],
    ) == ("partial_breaking", {"b": "modified"})
    # A column in either catalog counts (a removed one is only in the base's).
    assert change(
        "select a, b, c from t",
        "select a, b from t",
        T,
        base_catalog=[("a", "int"), ("b", "int"), ("c", "int")],
        current_catalog=[("a", "int"), ("b", "int")],
    ) == ("partial_breaking", {"c": "removed"})
    # Without a catalog for the node the SQL's names stay (Recce sends {}).
    assert change("select a from t", "select a, b from t", T) == ("non_breaking", {"b": "added"})


CHANGED_QUERIES = [
    ("select a, b from t", "select a, b + 1 as b, c from t where a > 1"),
    (
        "with x as (select a, b from t) select * from x",
        "with x as (select a, sum(b) as b from t group by a) select x.*, u.y from x "
        "join u on x.a = u.x qualify row_number() over (partition by x.a order by u.y) = 1",
    ),
    ("select a from t", "select a, b from t union all select x, y from u"),
]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(("base_sql", "current_sql"), CHANGED_QUERIES)
def test_a_modified_models_lineage_is_the_same_after_its_change_analysis(
    adapter: str, base_sql: str, current_sql: str
) -> None:
    # The change analysis parses the current SQL, and the node's lineage reads that parse
    # instead of parsing again: it must be the lineage the node has on its own.
    base = build({"m": base_sql}, TU, adapter=adapter)
    current = build({"m": current_sql}, TU, adapter=adapter)
    uid = "model.shop.m"
    after = CllProject(*base, *current, changes={uid: "modified"})
    assert after.change(uid) is not None
    assert len(after.cache) == 2  # the change and, from its parse, the lineage
    alone = CllProject(*base, *current, changes={uid: "modified"})
    assert after.node(uid) == alone.node(uid)
    assert after.node(uid) is not None and after.node(uid).columns  # type: ignore[union-attr]
