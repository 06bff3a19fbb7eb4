{#-
    A small relation (a seed) as an inline `values` subquery with its column types, so SQL rendered for use
    outside the warehouse (mart_definitions) carries the rows it needs. Runs a query: only call it on small
    relations. Before execution (parsing) it returns the relation itself.
-#}
{% macro relation_as_values(relation) %}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) -%}
    {%- set rows = run_query('select * from ' ~ relation ~ ' order by all').rows -%}
    {%- set names = columns | map(attribute='name') | join(', ') -%}
    {%- if rows | length == 0 -%}
        (select {% for col in columns %}cast(null as {{ col.dtype }}) as {{ col.name }}{{ ', ' if not loop.last }}{% endfor %} limit 0)
    {%- else -%}
        (select * from (values
        {%- for row in rows %}
            ({% for col in columns -%}
                {%- set value = row[loop.index0] -%}
                {%- if value is none -%}
                    cast(null as {{ col.dtype }})
                {%- else -%}
                    cast('{{ value | string | replace("'", "''") }}' as {{ col.dtype }})
                {%- endif -%}
                {{ ', ' if not loop.last }}
            {%- endfor %}){{ ',' if not loop.last }}
        {%- endfor %}
        ) as {{ relation.identifier }} ({{ names }}))
    {%- endif -%}
{% endmacro %}
