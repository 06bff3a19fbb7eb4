{#-
    Every channel configured in joinedup/channels.yml (var `channels`) has at least one row in the seed, so a new
    channel cannot reach the marts without a cost or a response target (or an explicit "no target" row).
-#}
{% test row_per_channel(model, column_name) %}
{%- set failing_sql -%}
with configured as (
    select * from (values {% for channel in configured_channels() %}({{ dbt.string_literal(channel) }}){% if not loop.last %}, {% endif %}{% endfor %}) as configured (channel)
)

select configured.channel as channel_without_a_row
from configured
where configured.channel not in (select {{ column_name }} from {{ model }} where {{ column_name }} is not null)
{%- endset -%}
{{ fail_naming_channels(failing_sql,
    "dbt_project/seeds/" ~ model.identifier ~ ".csv has no row (field " ~ column_name
    ~ ") for channel(s) configured in joinedup/channels.yml") }}
{% endtest %}
