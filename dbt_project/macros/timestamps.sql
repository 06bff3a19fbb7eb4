{#-
    Times in the marts come in pairs (README "BI access"): `<event>_at_utc`, the instant as a TIMESTAMPTZ, and
    `<event>_at_local`, the Europe/London wall clock as a plain TIMESTAMP. These macros are the only place either
    is derived, and neither depends on the session's TimeZone setting on DuckDB. On Spark the instant type is
    TIMESTAMP (LTZ) and the wall clock TIMESTAMP_NTZ; the session time zone must be UTC there (Spark reads the
    lake's naive times as TIMESTAMP_NTZ and turns them into instants in the session zone), which
    register_lake_sources checks before anything is built.
-#}

{#- A naive timestamp holding UTC (how the lake stores times) as the instant it is: a TIMESTAMPTZ. -#}
{% macro utc_instant(column) -%}
    {{ return(adapter.dispatch('utc_instant', 'joinedup')(column)) }}
{%- endmacro %}
{% macro duckdb__utc_instant(column) -%}
    timezone('UTC', cast({{ column }} as timestamp))
{%- endmacro %}
{% macro spark__utc_instant(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}

{#- An instant (TIMESTAMPTZ) as wall-clock time in the business time zone (var local_time_zone): a TIMESTAMP,
    an hour ahead of UTC in summer time, the October hour repeated. -#}
{% macro local_wall_clock(column) -%}
    {{ return(adapter.dispatch('local_wall_clock', 'joinedup')(column)) }}
{%- endmacro %}
{% macro duckdb__local_wall_clock(column) -%}
    timezone('{{ var("local_time_zone") }}', {{ column }})
{%- endmacro %}
{% macro spark__local_wall_clock(column) -%}
    convert_timezone('UTC', '{{ var("local_time_zone") }}', cast({{ column }} as timestamp_ntz))
{%- endmacro %}

{#- A wall-clock time in the business time zone (a TIMESTAMP) as the instant it is (a TIMESTAMPTZ): opening
    times, which are local. -#}
{% macro local_to_instant(column) -%}
    {{ return(adapter.dispatch('local_to_instant', 'joinedup')(column)) }}
{%- endmacro %}
{% macro duckdb__local_to_instant(column) -%}
    timezone('{{ var("local_time_zone") }}', cast({{ column }} as timestamp))
{%- endmacro %}
{% macro spark__local_to_instant(column) -%}
    to_utc_timestamp({{ column }}, '{{ var("local_time_zone") }}')
{%- endmacro %}

{#- The ISO 8601 year and week of a date as text, 'YYYY-Www' (2025-W14): sorts in time order, and the first
    days of January can belong to the previous ISO year (and the last of December to the next). -#}
{% macro iso_week(date_column) -%}
    {{ return(adapter.dispatch('iso_week', 'joinedup')(date_column)) }}
{%- endmacro %}
{% macro duckdb__iso_week(date_column) -%}
    strftime({{ date_column }}, '%G-W%V')
{%- endmacro %}
{% macro spark__iso_week(date_column) -%}
    concat(cast({{ spark__iso_year(date_column) }} as string), '-W',
        lpad(cast(weekofyear({{ date_column }}) as string), 2, '0'))
{%- endmacro %}
