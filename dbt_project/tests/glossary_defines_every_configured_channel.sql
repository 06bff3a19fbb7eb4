{#- Every channel configured in joinedup/channels.yml has its definition in the glossary (term channel). -#}
{%- set failing_sql -%}
with configured as (
    select * from (values {% for channel in configured_channels() %}({{ dbt.string_literal(channel) }}){% if not loop.last %}, {% endif %}{% endfor %}) as configured (channel)
)

select configured.channel as channel_without_a_definition
from configured
where configured.channel not in (select code from {{ ref('glossary') }} where term = 'channel')
{%- endset -%}
{{ fail_naming_channels(failing_sql,
    "dbt_project/seeds/glossary.csv has no row (term channel) for channel(s) configured in joinedup/channels.yml") }}
