"""The macros' names and SQL: dbt's core and generic-test macros, a materialization, the
adapter macro families' verbs and objects, dbt_utils' names, and the project's own macros
(``cents_to_dollars`` differs between base and current).
"""

from __future__ import annotations

VERBS = [
    "get",
    "create",
    "drop",
    "alter",
    "rename",
    "truncate",
    "list",
    "check",
    "make",
    "build",
    "validate",
    "render",
    "apply",
]
OBJECTS = [
    "columns_in_relation",
    "table_as",
    "view_as",
    "schema",
    "relation",
    "indexes",
    "grants",
    "catalog",
    "relations",
    "column_comment",
    "relation_comment",
    "temp_relation",
    "backup_relation",
    "intermediate_relation",
    "merge_sql",
    "delete_insert_sql",
    "insert_overwrite_sql",
    "append_sql",
    "empty_subquery_sql",
    "revoke_sql",
    "replace_sql",
    "materialized_view_as",
    "hooks",
    "batch_sql",
    "constraints",
    "column_schema",
    "select_sql",
    "limit_sql",
    "snapshot_staging_table",
    "timestamp_field",
    "unit_test_sql",
    "fixture_sql",
    "seed_column_type",
]
UTILS = [
    "star",
    "generate_surrogate_key",
    "date_spine",
    "pivot",
    "unpivot",
    "union_relations",
    "get_column_values",
    "deduplicate",
    "safe_add",
    "safe_divide",
    "safe_subtract",
    "group_by",
    "get_filtered_columns_in_relation",
    "get_relations_by_pattern",
    "get_relations_by_prefix",
    "get_tables_by_pattern_sql",
    "get_query_results_as_dict",
    "get_single_value",
    "nullcheck",
    "nullcheck_table",
    "haversine_distance",
    "width_bucket",
    "surrogate_key",
    "generate_series",
    "get_intervals_between",
    "get_url_host",
    "get_url_path",
    "get_url_parameter",
    "expression_is_true",
    "recency",
    "at_least_one",
    "not_constant",
    "not_empty_string",
    "cardinality_equality",
    "not_null_proportion",
    "not_accepted_values",
    "relationships_where",
    "mutually_exclusive_ranges",
    "sequential_values",
    "unique_combination_of_columns",
    "accepted_range",
    "equal_rowcount",
    "fewer_rows_than",
    "equality",
    "slugify",
    "log_info",
    "pretty_time",
    "pretty_log_format",
    "degrees_to_radians",
    "array_append_values",
    "split_part_safe",
]
IMPL = [
    """{% macro @N@(@A@) -%}
  {% call statement('@N@', fetch_result=True) %}
    select
        column_name,
        data_type,
        character_maximum_length,
        numeric_precision,
        numeric_scale
    from {{ @R@.information_schema('columns') }}
    where table_name = '{{ @R@.identifier }}'
      {% if @R@.schema %}
      and table_schema = '{{ @R@.schema }}'
      {% endif %}
    order by ordinal_position
  {% endcall %}
  {% set table = load_result('@N@').table %}
  {{ return(sql_convert_columns_in_relation(table)) }}
{%- endmacro %}""",
    """{% macro @N@(@A@) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {{ sql_header if sql_header is not none }}
  {%- set contract_config = config.get('contract') -%}
  create {% if temporary -%}temporary{%- endif %} table {{ @R@ }}
  {% if contract_config.enforced and (not temporary) %}
    {{ get_assert_columns_equivalent(sql) }}
    {{ get_table_columns_and_constraints() }} ;
    insert into {{ @R@ }} (
      {{ adapter.dispatch('get_column_names', 'dbt')() }}
    )
    {%- set sql = get_select_subquery(sql) %}
  {% else %}
    as
  {% endif %}
  (
    {{ sql }}
  );
{%- endmacro %}""",
    """{% macro @N@(@A@) -%}
  {#-- Build a quoted, comma separated list; strings are names, objects are columns --#}
  {%- set results = [] -%}
  {%- for item in @R@ -%}
    {%- if item is string -%}
      {%- do results.append(adapter.quote(item) if quote else item) -%}
    {%- else -%}
      {%- do results.append(adapter.quote(item.name) ~ ' ' ~ item.data_type) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(results | join(', ')) }}
{%- endmacro %}""",
]
MATERIALIZATION = """{% materialization @N@, default %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') %}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set backup_relation_type = existing_relation.type if existing_relation else 'table' -%}
  {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
  {% set grant_config = config.get('grants') %}

  {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
  {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main') -%}
    {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
  {%- endcall %}
  {% do create_indexes(intermediate_relation) %}

  {% if existing_relation is not none %}
    {{ adapter.rename_relation(existing_relation, backup_relation) }}
  {% endif %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  -- `COMMIT` happens here
  {{ adapter.commit() }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}"""
GENERIC_TESTS = {
    "not_null": "select {{ column_list }}\nfrom {{ model }}\nwhere {{ column_name }} is null",
    "unique": "select\n    {{ column_name }} as unique_field,\n    count(*) as n_records\n\n"
    "from {{ model }}\nwhere {{ column_name }} is not null\n"
    "group by {{ column_name }}\nhaving count(*) > 1",
    "accepted_values": "with all_values as (\n    select {{ column_name }} as value_field\n"
    "    from {{ model }}\n)\nselect * from all_values\nwhere value_field not in"
    " ({% for v in values %}'{{ v }}'{% if not loop.last %},{% endif %}"
    "{% endfor %})",
    "relationships": "with child as (\n    select {{ column_name }} as from_field\n"
    "    from {{ model }}\n    where {{ column_name }} is not null\n),\n"
    "parent as (\n    select {{ field }} as to_field\n    from {{ to }}\n)\n"
    "select from_field\nfrom child\n"
    "left join parent on child.from_field = parent.to_field\n"
    "where parent.to_field is null",
}
CORE = {  # name: (path, macro_sql, depends_on)
    "statement": (
        "macros/etc/statement.sql",
        """\
{%- macro statement(name=None, fetch_result=False, auto_begin=True, language='sql') -%}
  {%- if execute: -%}
    {%- set compiled_code = caller() -%}
    {%- set res, table = adapter.execute(compiled_code, auto_begin, fetch=fetch_result) -%}
    {%- if name is not none -%}
      {{ store_result(name, response=res, agate_table=table) }}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}""",
        [],
    ),
    "should_full_refresh": (
        "macros/materializations/configs.sql",
        """\
{% macro should_full_refresh() %}
  {% set config_full_refresh = config.get('full_refresh') %}
  {% if config_full_refresh is none %}
    {% set config_full_refresh = flags.FULL_REFRESH %}
  {% endif %}
  {% do return(config_full_refresh) %}
{% endmacro %}""",
        [],
    ),
    "should_store_failures": (
        "macros/materializations/configs.sql",
        """\
{% macro should_store_failures() %}
  {% set config_store_failures = config.get('store_failures') %}
  {% if config_store_failures is none %}
    {% set config_store_failures = flags.STORE_FAILURES %}
  {% endif %}
  {% do return(config_store_failures) %}
{% endmacro %}""",
        [],
    ),
    "is_incremental": (
        "macros/materializations/models/incremental/is_incremental.sql",
        """\
{% macro is_incremental() %}
    {% if not execute %}
        {{ return(False) }}
    {% else %}
        {% set relation = adapter.get_relation(this.database, this.schema, this.table) %}
        {{ return(relation is not none and relation.type == 'table'
                  and model.config.materialized == 'incremental' and not should_full_refresh()) }}
    {% endif %}
{% endmacro %}""",
        ["macro.dbt.should_full_refresh"],
    ),
    "get_where_subquery": (
        "macros/generic_test_sql/where_subquery.sql",
        """\
{% macro get_where_subquery(relation) -%}
    {% do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) %}
{%- endmacro %}""",
        ["macro.dbt.default__get_where_subquery"],
    ),
    "default__get_where_subquery": (
        "macros/generic_test_sql/where_subquery.sql",
        """\
{% macro default__get_where_subquery(relation) -%}
    {% set where = config.get('where', '') %}
    {% if where %}
        {% do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}""",
        [],
    ),
}
CENTS = {
    "base": "({{ column_name }} / 100)::numeric(16, {{ scale }})",
    "current": "round(({{ column_name }} / 100)::numeric, {{ scale }})",
}
PROJECT_MACROS = {
    "generate_schema_name": """\
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}""",
    "limit_in_ci": """\
{% macro limit_in_ci(n=1000) -%}
    {%- if target.name == 'ci' -%} limit {{ n }} {%- endif -%}
{%- endmacro %}""",
}
