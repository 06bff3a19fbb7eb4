{#- A UTC timestamp as wall-clock time in the business time zone (handles the clock changes). -#}
{% macro local_time(column) -%}
    timezone('{{ var("local_time_zone") }}', cast({{ column }} as timestamptz))
{%- endmacro %}
