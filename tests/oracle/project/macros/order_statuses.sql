{% macro order_statuses() -%}
    {{ return(['placed', 'shipped', 'completed', 'returned']) }}
{%- endmacro %}
