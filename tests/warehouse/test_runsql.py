"""The pure parts: value typing and serialisation, old-result upgrades, generated SQL in every
dialect, histogram geometry, template rendering."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlglot

from recce_trio.core.runresults import column_type, dataframe, upgrade_run_result
from recce_trio.core.runsql import histogram, queries
from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.core.runsql.relations import RelationResolver
from recce_trio.core.runsql.template import render_sql
from recce_trio.errors import MacroNotAvailableError, TemplateError
from tests.warehouse import data

DIALECTS = ["duckdb", "postgres", "snowflake", "bigquery", "databricks", "redshift", "trino"]


def test_values_serialised_as_recce_does() -> None:
    tz = dt.timezone(dt.timedelta(hours=2))
    frame = dataframe(
        ["i", "n", "f", "b", "d", "t", "s", "x"],
        [
            (9007199254740993, Decimal("9.85"), 0.1 + 0.2, True, dt.date(2024, 1, 2),
             dt.datetime(2024, 1, 1, 1, 0, tzinfo=tz), "é", b"\n\xff"),
            (None, Decimal("NaN"), float("inf"), None, None, dt.datetime(2024, 1, 1), None, [1, 2]),
        ],
    )  # fmt: skip
    assert [c["type"] for c in frame["columns"]] == [
        "integer", "number", "number", "boolean", "date", "datetime", "text", "text",
    ]  # fmt: skip
    assert frame["data"] == [
        [9007199254740993, "9.85", "0.30000000000000004", True, "2024-01-02",
         "2023-12-31T23:00:00Z", "é", "b'\\n\\xff'"],
        [None, None, None, None, None, "2024-01-01T00:00:00", None, "[1, 2]"],
    ]  # fmt: skip
    assert column_type([]) == "integer" and column_type([None]) == "integer"
    assert column_type([1, Decimal("1.5")]) == "number"
    assert column_type([2**70]) == "number"


def test_old_results_get_keys_and_nulls_back() -> None:
    stored = {"diff": {"columns": [{"name": "id", "type": "integer"}], "data": [[1]]}}
    upgraded = upgrade_run_result("query_diff", stored)
    assert upgraded == {
        "diff": {
            "columns": [{"name": "id", "type": "integer", "key": "id"}],
            "data": [[1]],
            "limit": None,
            "more": None,
            "total_row_count": None,
        },
        "base": None,
        "current": None,
    }
    value_diff = {"summary": {}, "data": {"columns": [{"name": "column", "type": "text"}]}}
    assert upgrade_run_result("value_diff", value_diff)["data"]["columns"][0]["key"] == "column"
    counts = {"orders": {"base": 1}}
    assert upgrade_run_result("row_count_diff", counts) == {"orders": {"base": 1}}


@pytest.mark.parametrize("name", DIALECTS)
def test_generated_sql_parses_in_each_dialect(name: str) -> None:
    d = SqlDialect(name)
    rel = d.relation("db", "sch", "My Table")
    sqls = [
        queries.keyed_diff(d, f"SELECT * FROM {rel}", f"SELECT * FROM {rel}", ["Id"], 2001),
        queries.value_diff(d, (rel, ["id"], ["id", "v"]), (rel, ["id"], ["id", "v"])),
        queries.profile(d, rel, [("a", "integer"), ("b", "varchar"), ("c", "boolean")]),
        queries.top_k(d, rel, rel, "col", 10),
        queries.valid_counts(d, rel, rel, "col"),
        queries.numeric_bins(d, rel, "col", [Decimal(0), Decimal("2.5"), Decimal(5)]),
        queries.date_bins(d, rel, "col", "month", is_date=True),
        queries.duplicate_keys(d, rel, ["a", "b"]),
        queries.count_rows(d, f"SELECT 1 FROM {rel};"),
    ]
    for sql in sqls:
        assert sqlglot.parse_one(sql, read=name) is not None
    assert d.quote("My Table") in sqls[0]


def test_nice_widths_and_edges() -> None:
    assert histogram.nice_width(Decimal("3.2")) == 5
    assert histogram.nice_width(Decimal("0.95")) == 1
    assert histogram.nice_width(Decimal("0.021")) == Decimal("0.025")
    edges, width = histogram.numeric_edges(0.14, 98.62, 10, integral=False)
    assert width == 10 and [int(e) for e in edges] == list(range(0, 101, 10))
    assert histogram.numeric_labels(edges, width)[-1] == "100-110"
    edges, _ = histogram.numeric_edges(-7, 7, 7, integral=True)
    assert edges[0] == -8 and edges[-1] >= 7
    assert histogram.numeric_edges(5, 5, 50, integral=True)[0] == [5, 6]  # min = max: one bin


def test_date_edges_by_span() -> None:
    unit, edges = histogram.date_edges(dt.date(2018, 1, 3), dt.date(2018, 12, 30))
    assert unit == "month" and len(edges) == 13 and edges[-1] == dt.date(2019, 1, 1)
    unit, edges = histogram.date_edges(dt.date(2000, 5, 1), dt.date(2020, 1, 1))
    assert unit == "year" and edges[0] == dt.date(2000, 1, 1) and edges[-1] == dt.date(2021, 1, 1)
    unit, edges = histogram.date_edges(dt.datetime(2024, 1, 1, 5), dt.datetime(2024, 1, 3))
    assert unit == "day" and len(edges) == 4


def _render(template: str, **kwargs: object) -> str:
    resolver = RelationResolver(data.manifest("dev"), SqlDialect("duckdb"), env_name="current")
    return render_sql(template, resolver=resolver, **kwargs)  # type: ignore[arg-type]


def test_template_context() -> None:
    assert _render("{{ ref('customers') }}") == '"wh"."dev"."customers"'
    assert _render("{{ ref('orders') }}") == '"wh"."dev"."orders"'  # built from the parts
    assert _render("{{ ref('orders').schema }}") == "dev"
    assert _render("{{ env_var('X', 'd') }}/{{ env_var('Y') }}", env={"Y": "y"}) == "d/y"
    assert _render("{{ var('a', 1) }}{{ var('b') }}", project_vars={"b": 2}) == "12"
    assert _render("{{ adapter.quote('a b') }}{{ config(materialized='x') }}") == '"a b"'
    assert _render("{% if is_incremental() %}x{% endif %}ok") == "ok"


def test_template_refusals() -> None:
    with pytest.raises(MacroNotAvailableError) as info:
        _render("{{ dbt_utils.star(from=ref('orders')) }}")
    assert info.value.macro == "dbt_utils.star" and "recce-trio[dbt]" in str(info.value)
    with pytest.raises(MacroNotAvailableError, match="'my_macro'"):
        _render("{{ my_macro() }}")
    with pytest.raises(TemplateError, match="'eph' is ephemeral"):
        _render("{{ ref('eph') }}")
    with pytest.raises(TemplateError, match="unknown name"):
        _render("{{ nothing_here }}")
    with pytest.raises(TemplateError):  # the sandbox keeps Python internals out of reach
        _render("{{ ref.__globals__ }}")
    with pytest.raises(TemplateError, match="'X' is required"):
        _render("{{ env_var('X') }}")


def test_this_gives_the_targets_schema_and_refuses_to_name_a_table() -> None:
    # As in Recce, this.schema and this.database are the current target's, on the base side too.
    target = {"name": "dev", "schema": "dev", "database": "wh"}
    base = RelationResolver(data.manifest("prod"), SqlDialect("duckdb"), env_name="base")
    rendered = render_sql("{{ this.database }}.{{ this.schema }}", resolver=base, target=target)
    assert rendered == "wh.dev"
    # A template is not a model: rendering this as a table fails, saying why (in Recce it
    # renders a made-up relation, and the warehouse then reports a missing table).
    for template, what in [("select * from {{ this }}", "{{ this }}"),
                           ("{{ this.identifier }}", "this.identifier")]:  # fmt: skip
        with pytest.raises(TemplateError) as info:
            _render(template, target=target)
        assert info.value.message.startswith(f"{what} names no table in a SQL template")
        assert "ref('<model>')" in info.value.hint


def test_catalog_types_label_float_columns(duckdb_file) -> None:  # type: ignore[no-untyped-def]
    from recce_trio.core.artifacts.records import Catalog, CatalogColumn, CatalogTable
    from recce_trio.core.runsql.relations import catalog_column_types
    from recce_trio.warehouse.connect import open_engine
    from recce_trio.warehouse.context import RunContext
    from recce_trio.warehouse.runner import execute_run
    from tests.warehouse.conftest import duckdb_target

    catalog = Catalog(
        nodes={
            "model.shop.orders": CatalogTable(
                columns={
                    "AMOUNT": CatalogColumn(name="AMOUNT", type="DOUBLE"),
                    "order_id": CatalogColumn(name="order_id", type="INTEGER"),
                }
            )
        }
    )
    current = data.manifest("dev")
    assert catalog_column_types(current, catalog, "orders") == {
        "AMOUNT": "DOUBLE",
        "order_id": "INTEGER",
    }
    assert catalog_column_types(current, catalog, "customers") == {}
    engine = open_engine(duckdb_target(duckdb_file))
    try:
        ctx = RunContext(
            base=data.manifest("prod"),
            current=current,
            engine=engine,
            catalog_types=lambda model: catalog_column_types(current, catalog, model),
        )
        result = execute_run(
            "value_diff_detail", {"model": "orders", "primary_key": ["order_id", "line_no"]}, ctx
        ).result
    finally:
        engine.close()
    types = {c["name"]: c["type"] for c in result["columns"]}
    assert types["amount"] == "float" and types["status"] == "text"


def test_versioned_and_package_refs() -> None:
    import msgspec

    from recce_trio.core.artifacts.records import Manifest, ManifestMetadata, Node

    def model(name: str, version: int | None, package: str = "shop") -> Node:
        alias = f"{name}_v{version}" if version else name
        return Node(
            unique_id=f"model.{package}.{alias}",
            resource_type="model",
            name=name,
            package_name=package,
            database="wh",
            schema="dev",
            alias=alias,
            version=version,
            latest_version=2 if version else None,
        )

    nodes = [model("dim", 1), model("dim", 2), model("util", None, "pkg"), model("util", None)]
    manifest = Manifest(
        metadata=ManifestMetadata(project_name="shop"), nodes={n.unique_id: n for n in nodes}
    )
    resolver = RelationResolver(manifest, SqlDialect("postgres"), env_name="current")

    def render(template: str) -> str:
        return render_sql(template, resolver=resolver)

    assert render("{{ ref('dim') }}") == '"wh"."dev"."dim_v2"'  # the latest version
    assert render("{{ ref('dim', v=1) }}") == '"wh"."dev"."dim_v1"'
    assert render("{{ ref('dim', version='1') }}") == '"wh"."dev"."dim_v1"'
    assert render("{{ ref('util') }}") == '"wh"."dev"."util"'  # the root project's own
    with pytest.raises(TemplateError, match=r"'dim \(v3\)' not found"):
        render("{{ ref('dim', v=3) }}")
    assert msgspec.json.encode(render("{{ ref('pkg', 'util').identifier }}")) == b'"util"'


def test_importing_the_layer_loads_no_driver() -> None:
    import subprocess
    import sys

    code = (
        "import sys, recce_trio.warehouse.runner, recce_trio.warehouse.connect; "
        "print(sorted(m for m in ('duckdb', 'psycopg', 'dbt') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_package_of_the_layer_is_a_regular_package() -> None:
    # setuptools' find_packages skips folders without __init__.py: an installed wheel would
    # lack them although the tests, importing from the checkout, pass.
    from pathlib import Path

    import recce_trio

    root = Path(recce_trio.__file__).parent
    folders = {p.parent for p in root.rglob("*.py") if "__pycache__" not in p.parts}
    assert sorted(str(f) for f in folders if not (f / "__init__.py").is_file()) == []
