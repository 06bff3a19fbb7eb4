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

{#- `dbt source freshness` for the contacts source (its loaded_at_query): the latest contact of the stalest
    configured channel in the Parquet file at `path`, one with nothing landed counting as never loaded, so one
    channel that stops delivering is caught while the others still flow. It reads the file itself, not the
    source, so it needs no view on Spark (a freshness run has no on-run-start hook to make one). -#}
{% macro lake_loaded_at_query(path) -%}
    select min(coalesce(landed.latest, timestamp '1970-01-01'))
    from (
        select * from (values {% for c in configured_channels() %}({{ dbt.string_literal(c) }}){{ ', ' if not loop.last }}{% endfor %})
            as configured (channel)
    ) as configured
    left join (
        select channel, max(occurred_at) as latest
        from {{ parquet_file(path) }}
        group by channel
    ) as landed on configured.channel = landed.channel
{%- endmacro %}

{#- A Parquet file (or glob) read as a relation. -#}
{% macro parquet_file(path) -%}
    {{ return(adapter.dispatch('parquet_file', 'joinedup')(path)) }}
{%- endmacro %}
{% macro duckdb__parquet_file(path) -%}
    read_parquet('{{ path }}')
{%- endmacro %}
{% macro spark__parquet_file(path) -%}
    parquet.`{{ path }}`
{%- endmacro %}
