{#-
    The configured channels: the var `channels`, which joinedup passes from joinedup/channels.yml on every dbt
    invocation. dbt_project.yml has no default, so a run without it stops here with a message saying how to
    pass it (dbt itself would only fail later on iterating None).
-#}
{% macro configured_channels() -%}
    {%- set channels = var('channels', none) -%}
    {%- if channels is none or channels is string or channels | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Required var 'channels' not found: it comes from joinedup/channels.yml; run dbt through joinedup "
            ~ "(joinedup/dbt_cli.py, the journeys DAG) or add --vars \"$(python -m joinedup.channels)\"") }}
    {%- endif -%}
    {{ return(channels) }}
{%- endmacro %}

{#- The configured channels as a SQL list: ('phone', 'email', ...). -#}
{% macro channel_literals() -%}
    ({% for channel in configured_channels() %}{{ dbt.string_literal(channel) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#-
    Fail a channel test naming the channels at fault. A plain dbt test only reports "Got 1 result", so the test
    runs its query once at execution and raises with the channels it found; the same query is then the test's
    SQL (no rows: pass), so store_failures and `dbt show` still work on it.
-#}
{% macro fail_naming_channels(failing_sql, message) -%}
    {%- if execute -%}
        {%- set found = run_query(failing_sql).columns[0].values() -%}
        {%- if found | length > 0 -%}
            {{ exceptions.raise_compiler_error(message ~ ": " ~ (found | sort | join(", "))) }}
        {%- endif -%}
    {%- endif -%}
    {{ failing_sql }}
{%- endmacro %}
