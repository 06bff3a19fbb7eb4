{#- All channels' staged contacts in one relation; the channel list is the `channels` var. -#}
{% for channel in var('channels') %}
select * from {{ ref('stg_' ~ channel ~ '__contacts') }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
