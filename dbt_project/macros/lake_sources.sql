{#-
    Register the lake's Parquet files (every source with meta.external_location) where the target reads them
    from: the on-run-start hook (dbt_project.yml). DuckDB needs nothing, dbt-duckdb reads external_location
    itself. Spark ignores external_location, so there each such source becomes a persistent view,
    `<source schema>.<table> = select * from parquet.`<path>``, re-listed on every query. Not a temporary
    view: staging models are views, and Spark refuses a persistent view over a temporary one
    (INVALID_TEMP_OBJ_REFERENCE). The Spark variant also stops the run unless the session time zone is UTC:
    the lake's times are naive UTC, and Spark turns them into instants in the session zone (macros/timestamps.sql).
-#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources', 'joinedup')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- set zone = run_query('select current_timezone()').columns[0].values()[0] -%}
        {%- if zone != 'UTC' -%}
            {{ exceptions.raise_compiler_error("the Spark session time zone is " ~ zone ~ ", not UTC: set "
                ~ "spark.sql.session.timeZone=UTC on the server (docs/scale-out.md), or the lake's naive UTC "
                ~ "times are read as " ~ zone ~ " times") }}
        {%- endif -%}
        {%- for node in graph.sources.values() if node.meta.get('external_location') -%}
            {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- do run_query('create or replace view ' ~ node.schema ~ '.' ~ node.identifier
                ~ ' as select * from parquet.`' ~ node.meta['external_location'] ~ '`') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
