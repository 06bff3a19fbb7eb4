{#-
    Seeds on Spark: dbt-spark 1.11 loads a seed with bindings that its session-mode cursor substitutes as
    '{value}' unescaped (dbt/adapters/spark/session.py, _fix_binding), so a quote in a cell (the glossary's
    definitions, "King's Birthday") breaks the insert, and an empty cell becomes the string 'None' instead of
    null (sla_targets' "no target" rows). This override of dbt's load_csv_rows for Spark (the root project's
    spark__ macro wins dispatch in the dbt namespace) writes every cell as a literal: null, or a string with
    quotes and backslashes escaped, cast to the column's type as dbt-spark does. It serves every Spark method.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    {%- set value = row[loop.index0] -%}
                    cast({{ 'null' if value is none else sql_text_literal(value | string) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%}){%- if not loop.last %},{% endif %}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}
