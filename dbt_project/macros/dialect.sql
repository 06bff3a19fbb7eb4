{#-
    Every SQL construct that DuckDB (target `local`) and Spark (targets `spark`, `spark_ci`) spell differently,
    as adapter.dispatch macros: the models call these and stay one project on both engines. The `duckdb__`
    variants are the SQL the models held before Spark came (their marts are unchanged); the `spark__` ones give
    the same values on Spark 4 (session time zone UTC, which register_lake_sources checks). docs/scale-out.md
    lists them.

    A macro whose SQL is stored as text for the report (mart_definitions, which the report runs on DuckDB over
    the published file) takes `dialect`: 'duckdb' renders DuckDB SQL whatever the target; none follows the
    target. (adapter.dispatch itself only follows the target, and dbt parses its first argument statically.)
-#}

{#- Seconds from `earlier` to `later` (two instants), a DOUBLE. -#}
{% macro seconds_between(earlier, later, dialect=none) -%}
    {%- if dialect == 'duckdb' -%}
        {{ return(duckdb__seconds_between(earlier, later)) }}
    {%- endif -%}
    {{ return(adapter.dispatch('seconds_between', 'joinedup')(earlier, later)) }}
{%- endmacro %}
{% macro duckdb__seconds_between(earlier, later) -%}
    epoch({{ later }} - {{ earlier }})
{%- endmacro %}
{% macro spark__seconds_between(earlier, later) -%}
    ((unix_micros({{ later }}) - unix_micros({{ earlier }})) / 1e6)
{%- endmacro %}

{#- ISO weekday of a date or timestamp: 1 = Monday .. 7 = Sunday. -#}
{% macro iso_weekday(column) -%}
    {{ return(adapter.dispatch('iso_weekday', 'joinedup')(column)) }}
{%- endmacro %}
{% macro duckdb__iso_weekday(column) -%}
    isodow({{ column }})
{%- endmacro %}
{% macro spark__iso_weekday(column) -%}
    (weekday({{ column }}) + 1)
{%- endmacro %}

{#- The ISO 8601 week-numbering year of a date (2024-12-30 is in 2025). -#}
{% macro iso_year(column) -%}
    {{ return(adapter.dispatch('iso_year', 'joinedup')(column)) }}
{%- endmacro %}
{% macro duckdb__iso_year(column) -%}
    isoyear({{ column }})
{%- endmacro %}
{% macro spark__iso_year(column) -%}
    extract(yearofweek from {{ column }})
{%- endmacro %}

{#- A date's weekday in full, in English: 'Monday'. -#}
{% macro weekday_name(column) -%}
    {{ return(adapter.dispatch('weekday_name', 'joinedup')(column)) }}
{%- endmacro %}
{% macro duckdb__weekday_name(column) -%}
    dayname({{ column }})
{%- endmacro %}
{% macro spark__weekday_name(column) -%}
    date_format({{ column }}, 'EEEE')
{%- endmacro %}

{#- A date's month and year, in English: 'January 2025'. -#}
{% macro month_label(column) -%}
    {{ return(adapter.dispatch('month_label', 'joinedup')(column)) }}
{%- endmacro %}
{% macro duckdb__month_label(column) -%}
    strftime({{ column }}, '%B %Y')
{%- endmacro %}
{% macro spark__month_label(column) -%}
    date_format({{ column }}, 'MMMM yyyy')
{%- endmacro %}

{#- One row per date from `first_day` to `last_day` (dates, both included): a select-list expression that
    expands to rows (a set-returning function), DATE. -#}
{% macro each_day(first_day, last_day) -%}
    {{ return(adapter.dispatch('each_day', 'joinedup')(first_day, last_day)) }}
{%- endmacro %}
{% macro duckdb__each_day(first_day, last_day) -%}
    cast(unnest(generate_series({{ first_day }}, {{ last_day }}, interval 1 day)) as date)
{%- endmacro %}
{% macro spark__each_day(first_day, last_day) -%}
    explode(sequence({{ first_day }}, {{ last_day }}, interval 1 day))
{%- endmacro %}

{#- An integer array literal from a list of numbers. -#}
{% macro int_array(values) -%}
    {{ return(adapter.dispatch('int_array', 'joinedup')(values)) }}
{%- endmacro %}
{% macro duckdb__int_array(values) -%}
    cast([{{ values | join(', ') }}] as integer[])
{%- endmacro %}
{% macro spark__int_array(values) -%}
    cast(array({{ values | join(', ') }}) as array<int>)
{%- endmacro %}

{#- Whether the array holds the value. -#}
{% macro array_has(array, value) -%}
    {{ return(adapter.dispatch('array_has', 'joinedup')(array, value)) }}
{%- endmacro %}
{% macro duckdb__array_has(array, value) -%}
    list_contains({{ array }}, {{ value }})
{%- endmacro %}
{% macro spark__array_has(array, value) -%}
    array_contains({{ array }}, {{ value }})
{%- endmacro %}

{#- A local time of day from 'HH:MM' (channels.yml's opening hours). Spark has no TIME type: there it is the
    minutes since midnight, which local_time_on adds to a date. -#}
{% macro time_of_day(hh_mm) -%}
    {{ return(adapter.dispatch('time_of_day', 'joinedup')(hh_mm)) }}
{%- endmacro %}
{% macro duckdb__time_of_day(hh_mm) -%}
    cast('{{ hh_mm }}' as time)
{%- endmacro %}
{% macro spark__time_of_day(hh_mm) -%}
    {%- set parts = (hh_mm | string).split(':') -%}
    {{ (parts[0] | int) * 60 + (parts[1] | int) }}
{%- endmacro %}

{#- The local timestamp (no time zone) at `time_of_day` on `date`. -#}
{% macro local_time_on(date, time_of_day) -%}
    {{ return(adapter.dispatch('local_time_on', 'joinedup')(date, time_of_day)) }}
{%- endmacro %}
{% macro duckdb__local_time_on(date, time_of_day) -%}
    {{ date }} + {{ time_of_day }}
{%- endmacro %}
{% macro spark__local_time_on(date, time_of_day) -%}
    timestampadd(minute, {{ time_of_day }}, cast({{ date }} as timestamp_ntz))
{%- endmacro %}

{#- `expr` of a group's rows joined with `separator` in `order_by` order, over the rows where `filter` holds
    (every row when none). dbt.listagg drops the order on Spark. -#}
{% macro ordered_string_agg(expr, separator, order_by, filter=none) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'joinedup')(expr, separator, order_by, filter)) }}
{%- endmacro %}
{% macro duckdb__ordered_string_agg(expr, separator, order_by, filter) -%}
    string_agg({{ expr }}, {{ dbt.string_literal(separator) }} order by {{ order_by }})
    {%- if filter is not none %} filter (where {{ filter }}){% endif -%}
{%- endmacro %}
{% macro spark__ordered_string_agg(expr, separator, order_by, filter) -%}
    string_agg({{ expr }}, {{ dbt.string_literal(separator) }}) within group (order by {{ order_by }})
    {%- if filter is not none %} filter (where {{ filter }}){% endif -%}
{%- endmacro %}

{#- SQL text as a string literal: quotes doubled, and on Spark, whose literals treat a backslash as an
    escape, backslashes doubled too, so the text stored is the text rendered. -#}
{% macro sql_text_literal(text) -%}
    {{ return(adapter.dispatch('sql_text_literal', 'joinedup')(text)) }}
{%- endmacro %}
{% macro default__sql_text_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}
{% macro spark__sql_text_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "''") }}'
{%- endmacro %}

{#- A column type as `dialect` names it, from the name the target's adapter reported (relation_as_values
    inlines a seed's types into SQL that runs on DuckDB). -#}
{% macro sql_type_name(dtype, dialect=none) -%}
    {%- if dialect is none or dialect == target.type -%}
        {{ return(dtype) }}
    {%- endif -%}
    {%- set duckdb_names = {'string': 'VARCHAR', 'double': 'DOUBLE', 'boolean': 'BOOLEAN', 'int': 'INTEGER',
                            'bigint': 'BIGINT', 'date': 'DATE', 'timestamp': 'TIMESTAMP WITH TIME ZONE',
                            'timestamp_ntz': 'TIMESTAMP'} -%}
    {%- if dialect != 'duckdb' or (dtype | lower) not in duckdb_names -%}
        {{ exceptions.raise_compiler_error("sql_type_name: no " ~ dialect ~ " name for the " ~ target.type
            ~ " type " ~ dtype ~ " (add it in macros/dialect.sql)") }}
    {%- endif -%}
    {{ return(duckdb_names[dtype | lower]) }}
{%- endmacro %}
