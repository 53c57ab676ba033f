{% macro day_series(start_date, days) -%}
    select cast('{{ start_date }}' as date) + cast(i as integer) as date_day
    from range({{ days }}) as t(i)
{%- endmacro %}
