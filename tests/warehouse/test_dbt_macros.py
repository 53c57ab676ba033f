"""Project and package macros in SQL templates, through the dbt extra (``tox -e dbt``).

A real dbt project (models, a project macro, a local package in dbt_packages/ with a
dispatched macro and a small ``star`` that asks the adapter for a relation's columns) is
parsed by dbt twice: the base branch into target-base/ (target ``prod``), the current branch
into target/ (target ``dev``), with different macros. The warehouse is the hand-made DuckDB of
data.py (schema prod = base, dev = current), opened through dbt-duckdb.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recce_trio.core.artifacts.manifest import decode_manifest
from recce_trio.errors import MacroNotFoundError, TemplateError
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.runner import execute_run
from tests.api.helpers import call, ready_app
from tests.warehouse.conftest import _has_dbt_duckdb

pytestmark = pytest.mark.skipif(
    not _has_dbt_duckdb(), reason="needs dbt-core and dbt-duckdb (tox -e dbt)"
)

PROJECT = 'name: shop\nversion: "1.0"\nprofile: shop\nvars: {min_amount: 5}\n'
PROFILES = """\
shop:
  target: dev
  outputs:
{outputs}
"""
OUTPUT = """\
    {name}:
      type: duckdb
      path: {path}
      schema: {name}
      threads: 2
      config_options: {{access_mode: READ_ONLY, enable_external_access: false}}
"""
# The base branch's project macro, and the current branch's (changed, plus one that raises).
BASE_MACROS = "{% macro shop_status() %}'placed'{% endmacro %}\n"
CURRENT_MACROS = """\
{% macro shop_status() %}'completed'{% endmacro %}
{% macro check_orders() %}
  {{ exceptions.raise_compiler_error("Orders need a status column") }}
{% endmacro %}
"""
PACKAGE = 'name: shoputils\nversion: "1.0"\nconfig-version: 2\n'
PACKAGE_MACROS = """\
{% macro times_two(x) %}{{ return(adapter.dispatch('times_two', 'shoputils')(x)) }}{% endmacro %}
{% macro default__times_two(x) %}({{ x }}) * 2{% endmacro %}
{% macro duckdb__times_two(x) %}({{ x }}) + ({{ x }}){% endmacro %}

{# As dbt_utils.star: a Relation is required; its columns come from the adapter. #}
{% macro star(from, except=[]) %}
  {%- if not (from is mapping and from.get('metadata', {}).get('type', '').endswith('Relation')) -%}
    {{ exceptions.raise_compiler_error("star expected a Relation, got " ~ from) }}
  {%- endif -%}
  {%- set skip = except | map('lower') | list -%}
  {%- set names = [] -%}
  {%- for column in adapter.get_columns_in_relation(from) -%}
    {%- if column.name | lower not in skip -%}
      {%- do names.append(adapter.quote(column.name)) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ names | join(', ') }}
{%- endmacro %}
"""


def _dbt(project: Path, *args: str) -> None:
    script = Path(sys.executable).parent / "dbt"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dbt.cli.main"]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_VERSION_CHECK": "false"}
    done = subprocess.run(
        [*command, *args, "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, duckdb_file: Path) -> Path:
    root = tmp_path_factory.mktemp("macros") / "shop"
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    package = root / "dbt_packages" / "shoputils"
    (package / "macros").mkdir(parents=True)
    db = shutil.copy(duckdb_file, root / duckdb_file.name)
    (root / "dbt_project.yml").write_text(PROJECT)
    outputs = "".join(OUTPUT.format(name=name, path=db) for name in ("dev", "prod"))
    (root / "profiles.yml").write_text(PROFILES.format(outputs=outputs))
    for model in ("customers", "orders"):
        (root / "models" / f"{model}.sql").write_text("select 1 as id\n")
    (package / "dbt_project.yml").write_text(PACKAGE)
    (package / "macros" / "utils.sql").write_text(PACKAGE_MACROS)
    (root / "macros" / "shop.sql").write_text(BASE_MACROS)
    _dbt(root, "parse", "--target", "prod", "--target-path", "target-base")
    (root / "macros" / "shop.sql").write_text(CURRENT_MACROS)
    _dbt(root, "parse", "--target", "dev")
    return root


@pytest.fixture(scope="module")
def dbt_engine(project: Path) -> Iterator[Any]:
    from recce_trio.warehouse.connect import open_engine
    from recce_trio.warehouse.profiles import load_target

    engine = open_engine(load_target(project_dir=project, env={}), use_dbt=True)
    yield engine
    engine.close()


def _context(project: Path, engine: Any) -> RunContext:
    manifests = {"base": project / "target-base", "current": project / "target"}
    ctx = RunContext(
        base=decode_manifest((manifests["base"] / "manifest.json").read_bytes(), path="base"),
        current=decode_manifest((manifests["current"] / "manifest.json").read_bytes(), path="cur"),
        engine=engine,
    )
    sources = {env: folder / "manifest.json" for env, folder in manifests.items()}
    ctx.macros = engine.macro_provider(sources, ctx.cancel)
    return ctx


@pytest.fixture
def ctx(project: Path, dbt_engine: Any) -> RunContext:
    return _context(project, dbt_engine)


def _rows(frame: dict[str, Any]) -> list[list[Any]]:
    return [list(row) for row in frame["data"]]


def test_each_side_renders_with_its_own_manifests_project_macro(ctx: RunContext) -> None:
    template = (
        "select order_id, line_no, status from {{ ref('orders') }}"
        " where status = {{ shop_status() }} order by 1, 2"
    )
    result = execute_run("query_diff", {"sql_template": template}, ctx).result
    # base: prod's orders where status = 'placed'; current: dev's where status = 'completed'
    assert _rows(result["base"]) == [[1, 1, "placed"], [1, 2, "placed"]]
    assert _rows(result["current"]) == [[2, 1, "completed"]]
    assert ctx.render("{{ ref('orders') }}", "base") == '"wh"."prod"."orders"'
    assert ctx.render("{{ ref('orders') }}", "current") == '"wh"."dev"."orders"'


def test_a_package_macro_dispatches_to_the_adapters_version(ctx: RunContext) -> None:
    template = "select {{ shoputils.times_two(21) }} as answer"
    assert ctx.render(template, "current") == "select (21) + (21) as answer"
    result = execute_run("query", {"sql_template": template}, ctx).result
    assert result["data"] == [[42]]


def test_a_star_macro_reads_the_relations_columns_through_the_adapter(ctx: RunContext) -> None:
    template = (
        "select {{ shoputils.star(ref('customers'), except=['balance', 'updated_at']) }}"
        " from {{ ref('customers') }} order by 1"
    )
    result = execute_run(
        "query_diff", {"sql_template": template, "primary_keys": ["customer_id"]}, ctx
    )
    diff = result.result["diff"]
    assert [c["key"] for c in diff["columns"]] == [
        "customer_id", "name", "signup", "active", "in_a", "in_b",
    ]  # fmt: skip
    # Zoë (4) only in base, Émile (5) only in current; Björn's change was in balance: excluded.
    assert [row[0] for row in diff["data"]] == [4, 5]


def test_dbt_context_members_work_in_templates(ctx: RunContext) -> None:
    rendered = ctx.render(
        "{{ var('min_amount') }} {{ target.name }} {{ dbt.type_string() }}"
        " {{ run_query('select 7 as n').columns[0].values()[0] }}",
        "current",
    )
    assert rendered == "5 dev TEXT 7"


def test_this_is_the_dbt_targets_schema_and_names_no_table(ctx: RunContext) -> None:
    # dbt's target (the current one, on both sides, as in Recce): schema dev, database wh.
    assert ctx.render("{{ this.database }}.{{ this.schema }}", "base") == "wh.dev"
    with pytest.raises(TemplateError, match="names no table in a SQL template"):
        execute_run("query", {"sql_template": "select * from {{ this }}"}, ctx)


def test_an_unknown_macro_is_named(ctx: RunContext) -> None:
    for template, name in [
        ("select {{ shoputils.nope(1) }}", "shoputils.nope"),
        ("select {{ no_such_macro() }}", "no_such_macro"),
        ("select {{ nopkg.star(ref('orders')) }}", "nopkg.star"),
    ]:
        with pytest.raises(MacroNotFoundError) as info:
            execute_run("query", {"sql_template": template}, ctx)
        assert f"'{name}'" in info.value.message and "current manifest" in info.value.message
        assert info.value.status == 400


def test_a_macro_only_in_current_is_unknown_in_base(ctx: RunContext) -> None:
    with pytest.raises(MacroNotFoundError, match="'check_orders', which is not in the base"):
        execute_run("query_base", {"sql_template": "select {{ check_orders() }}"}, ctx)


def test_a_macro_that_raises_gives_dbts_message(ctx: RunContext) -> None:
    with pytest.raises(TemplateError) as info:
        execute_run("query", {"sql_template": "select {{ check_orders() }}"}, ctx)
    assert info.value.status == 400
    assert "Orders need a status column" in info.value.message
    # The run's connection is free again: the next run works.
    assert execute_run("query", {"sql_template": "select 1 as one"}, ctx).result["data"] == [[1]]


def test_a_star_of_something_else_fails_with_the_macros_own_error(ctx: RunContext) -> None:
    with pytest.raises(TemplateError, match="star expected a Relation"):
        ctx.render("{{ shoputils.star('orders') }}", "current")


def test_macros_come_from_state_file_bytes_and_follow_a_rewritten_manifest(
    project: Path, dbt_engine: Any, tmp_path: Path
) -> None:
    """Review mode keeps the artifacts as bytes; a watched manifest.json may be rewritten."""
    ctx = _context(project, dbt_engine)
    base_bytes = (project / "target-base" / "manifest.json").read_bytes()
    ctx.macros = dbt_engine.macro_provider({"base": base_bytes, "current": base_bytes}, ctx.cancel)
    assert ctx.render("{{ shop_status() }}", "current") == "'placed'"
    moving = tmp_path / "manifest.json"
    moving.write_bytes(base_bytes)
    ctx.macros = dbt_engine.macro_provider({"base": moving, "current": moving}, ctx.cancel)
    assert ctx.render("{{ shop_status() }}", "current") == "'placed'"
    moving.write_bytes((project / "target" / "manifest.json").read_bytes())
    assert ctx.render("{{ shop_status() }}", "current") == "'completed'"


def test_recce_trio_run_renders_checks_with_macros(project: Path, tmp_path: Path) -> None:
    """`recce-trio run --dbt-adapter` in a process of its own: recce.yml's query_diff check,
    each side with its manifest's shop_status() and the package's times_two()."""
    (project / "recce.yml").write_text(
        "checks:\n"
        "  - name: Orders of the status\n"
        "    type: query_diff\n"
        "    params:\n"
        "      sql_template: >-\n"
        "        select order_id, {{ shoputils.times_two('line_no') }} as twice\n"
        "        from {{ ref('orders') }} where status = {{ shop_status() }} order by 1, 2\n"
    )
    out = tmp_path / "state.json"
    env = {**os.environ, "HOME": str(tmp_path / "home"), "DBT_PROFILES_DIR": ""}
    command = ["run", "--project-dir", str(project), "--dbt-adapter", "-o", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "recce_trio", *command],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[Success] Orders of the status (query_diff)" in done.stdout
    run = next(r for r in json.loads(out.read_text())["runs"] if r["type"] == "query_diff")
    assert run["result"]["base"]["data"] == [[1, 2], [1, 4]]  # prod's 'placed' lines 1 and 2
    assert run["result"]["current"]["data"] == [[2, 2]]  # dev's 'completed' order


@pytest.mark.corpus
def test_the_real_dbt_utils_star_from_a_real_manifest(project: Path, dbt_engine: Any) -> None:
    """dbt_utils (its real macros, as a real duckdb project's manifest.json holds them)."""
    from tests.conftest import CORPUS

    manifest = CORPUS / "doriwilson__recce-super-demo" / "manifest.json"
    if not manifest.is_file():
        pytest.skip(f"the shared corpus is not here ({CORPUS})")
    ctx = _context(project, dbt_engine)
    ctx.macros = dbt_engine.macro_provider({"base": manifest, "current": manifest}, ctx.cancel)
    template = (
        "select {{ dbt_utils.star(from=ref('orders'), except=['amount', 'status']) }}"
        " from {{ ref('orders') }} where order_id is not null order by 1, 2"
    )
    rendered = ctx.render(template, "base")
    assert rendered.split(" from ")[0].split() == ["select", '"order_id",', '"line_no"']
    result = execute_run("query", {"sql_template": template}, ctx).result
    assert result["data"] == [[1, 1], [1, 2], [2, 1], [4, 1]]  # dev's orders with an id


# Last in this module: the server opens dbt's adapter again (dbt keeps one per process).
async def test_the_server_runs_macros_with_dbt_adapter(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trio

    monkeypatch.setenv("HOME", str(project / "home"))
    for var in ("DBT_PROFILES_DIR", "RECCE_PROFILES_DIR", "DBT_PROFILE", "DBT_TARGET"):
        monkeypatch.delenv(var, raising=False)
    async with ready_app(project, dbt_adapter=True, watch=False) as (app, client):
        with trio.fail_after(60):
            await app.extensions["recce"].warehouse.settled.wait()
        _, health = await call(client, "get", "/api/health")
        assert health["warehouse"] == {"state": "ready", "error": None}
        template = "select {{ shoputils.times_two('order_id') }} as twice from {{ ref('orders') }}"
        template += " where status = {{ shop_status() }}"
        status, run = await call(
            client, "post", "/api/runs", {"type": "query", "params": {"sql_template": template}}
        )
        assert status == 201 and run["status"] == "Finished", run["error"]
        assert run["result"]["data"] == [[4]]  # dev's one 'completed' order: 2 + 2
        status, run = await call(
            client,
            "post",
            "/api/runs",
            {"type": "query", "params": {"sql_template": "{{ check_orders() }}"}},
        )
        assert status == 201 and run["status"] == "Failed"
        assert "Orders need a status column" in run["error"]
