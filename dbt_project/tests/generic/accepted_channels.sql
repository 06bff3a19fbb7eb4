{#-
    accepted_values with the channel list from joinedup/channels.yml (var `channels`), naming any other channel
    found. On the lake source it is what stops a channel that landed but is not configured from vanishing.
-#}
{% test accepted_channels(model, column_name) %}
{%- set failing_sql -%}
select distinct {{ column_name }} as unconfigured_channel
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in {{ channel_literals() }}
{%- endset -%}
{{ fail_naming_channels(failing_sql,
    model.identifier ~ "." ~ column_name ~ " holds channel(s) not configured in joinedup/channels.yml "
    ~ "(configure them there, or remove their data)") }}
{% endtest %}
