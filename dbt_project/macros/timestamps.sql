{#-
    Times in the marts come in pairs (README "BI access"): `<event>_at_utc`, the instant as a TIMESTAMPTZ, and
    `<event>_at_local`, the Europe/London wall clock as a plain TIMESTAMP. These macros are the only place either
    is derived, and neither depends on the session's TimeZone setting.
-#}

{#- A naive timestamp holding UTC (how the lake stores times) as the instant it is: a TIMESTAMPTZ. -#}
{% macro utc_instant(column) -%}
    timezone('UTC', cast({{ column }} as timestamp))
{%- endmacro %}

{#- An instant (TIMESTAMPTZ) as wall-clock time in the business time zone (var local_time_zone): a TIMESTAMP,
    an hour ahead of UTC in summer time, the October hour repeated. -#}
{% macro local_wall_clock(column) -%}
    timezone('{{ var("local_time_zone") }}', {{ column }})
{%- endmacro %}

{#- A wall-clock time in the business time zone (a TIMESTAMP) as the instant it is (a TIMESTAMPTZ): opening
    times, which are local. -#}
{% macro local_to_instant(column) -%}
    timezone('{{ var("local_time_zone") }}', cast({{ column }} as timestamp))
{%- endmacro %}

{#- The ISO 8601 year and week of a date as text, 'YYYY-Www' (2025-W14): sorts in time order, and the first
    days of January can belong to the previous ISO year (and the last of December to the next). -#}
{% macro iso_week(date_column) -%}
    strftime({{ date_column }}, '%G-W%V')
{%- endmacro %}
