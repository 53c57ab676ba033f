{% macro dollars_sum(column_name) -%}
    {{ cents_to_dollars('sum(' ~ column_name ~ ' * 100)') }}
{%- endmacro %}
