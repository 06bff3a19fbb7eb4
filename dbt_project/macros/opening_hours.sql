{#-
    Each configured channel's opening hours: the var `opening_hours`, which joinedup passes from
    joinedup/channels.yml with the channel list (joinedup.channels.dbt_vars). A run without it, or without hours
    for a configured channel, stops here saying how to pass it.
-#}
{% macro configured_opening_hours() -%}
    {%- set channels = configured_channels() -%}  {#- no vars at all: say so about the channel list first -#}
    {%- set hours = var('opening_hours', none) -%}
    {%- if hours is none or hours is string -%}
        {{ exceptions.raise_compiler_error(
            "Required var 'opening_hours' not found: it comes from joinedup/channels.yml; run dbt through joinedup "
            ~ "(joinedup/dbt_cli.py, the journeys DAG) or add --vars \"$(python -m joinedup.channels)\"") }}
    {%- endif -%}
    {%- set missing = [] -%}
    {%- for channel in channels if channel not in hours -%}
        {%- do missing.append(channel) -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error("var 'opening_hours' has no hours for channel(s) " ~ (missing | join(", "))
            ~ ": pass the vars from joinedup/channels.yml (python -m joinedup.channels)") }}
    {%- endif -%}
    {{ return(hours) }}
{%- endmacro %}

{#- The configured channels' opening hours as a relation: channel, iso_weekdays (1 = Monday), opens, closes
    (local times of day: TIME, on Spark minutes since midnight; see time_of_day) and is_open_on_bank_holidays. -#}
{% macro opening_hours_relation() -%}
    {%- set hours = configured_opening_hours() -%}
    (select * from (values
    {%- for channel in configured_channels() %}
        {%- set h = hours[channel] %}
        ({{ dbt.string_literal(channel) }}, {{ int_array(h['iso_weekdays']) }},
            {{ time_of_day(h['opens']) }}, {{ time_of_day(h['closes']) }},
            {{ 'true' if h['open_on_bank_holidays'] else 'false' }}){{ ',' if not loop.last }}
    {%- endfor %}
    ) as opening_hours (channel, iso_weekdays, opens, closes, is_open_on_bank_holidays))
{%- endmacro %}
