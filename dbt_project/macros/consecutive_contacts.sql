{#-
    The one definition of a transition: every contact of a journey after its first, with the contact before it
    as from_*. int_contact_transitions classifies these pairs; the channel_transitions mart macro counts them,
    and the report's filtered views run that macro, so all three pair contacts the same way.
-#}
{% macro consecutive_contacts(contacts) %}
select
    journey_id,
    person_key,
    service,
    lag(contact_key) over by_journey as from_contact_key,
    contact_key as to_contact_key,
    lag(channel) over by_journey as from_channel,
    channel as to_channel,
    lag(occurred_at) over by_journey as from_occurred_at,
    occurred_at as to_occurred_at,
    lag(outcome) over by_journey as from_outcome,
    lag(first_response_at) over by_journey as from_first_response_at,
    lag(is_sla_met) over by_journey as from_is_sla_met,
    occurred_month
from {{ contacts }}
window by_journey as (partition by journey_id order by contact_sequence)
{% endmacro %}
