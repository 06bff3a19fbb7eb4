{#-
    A small relation (a seed) as an inline `values` subquery with its column types, so SQL rendered for use
    outside the warehouse (mart_definitions) carries the rows it needs. Runs a query: only call it on small
    relations. Before execution (parsing) it returns the relation itself. `dialect` names the types for
    that engine whatever the target (see sql_type_name).
-#}
{% macro relation_as_values(relation, dialect=none) %}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) -%}
    {#- nulls last spelt out: Spark sorts them first, and the rendered text must not depend on the target -#}
    {%- set order = columns | map(attribute='name') | join(' nulls last, ') ~ ' nulls last' -%}
    {%- set rows = run_query('select * from ' ~ relation ~ ' order by ' ~ order).rows -%}
    {%- set names = columns | map(attribute='name') | join(', ') -%}
    {%- if rows | length == 0 -%}
        (select {% for col in columns %}cast(null as {{ sql_type_name(col.dtype, dialect) }}) as {{ col.name }}{{ ', ' if not loop.last }}{% endfor %} limit 0)
    {%- else -%}
        (select * from (values
        {%- for row in rows %}
            ({% for col in columns -%}
                {%- set value = row[loop.index0] -%}
                {%- if value is none -%}
                    cast(null as {{ sql_type_name(col.dtype, dialect) }})
                {%- else -%}
                    cast('{{ value | string | replace("'", "''") }}' as {{ sql_type_name(col.dtype, dialect) }})
                {%- endif -%}
                {{ ', ' if not loop.last }}
            {%- endfor %}){{ ',' if not loop.last }}
        {%- endfor %}
        ) as {{ relation.identifier }} ({{ names }}))
    {%- endif -%}
{% endmacro %}
