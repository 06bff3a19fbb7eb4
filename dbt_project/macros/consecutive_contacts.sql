{#-
    The one definition of a transition: every contact of a journey after its first, with the contact before it
    as from_*. int_contact_transitions classifies these pairs; the channel_transitions mart macro counts them,
    and the report's filtered views run that macro, so all three pair contacts the same way. The pair's local
    date, ISO week and month are those of the later contact (when the citizen came back).
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
    lag(occurred_at_utc) over by_journey as from_occurred_at_utc,
    lag(occurred_at_local) over by_journey as from_occurred_at_local,
    occurred_at_utc as to_occurred_at_utc,
    occurred_at_local as to_occurred_at_local,
    lag(outcome) over by_journey as from_outcome,
    lag(first_response_at_utc) over by_journey as from_first_response_at_utc,
    lag(sla_target_minutes) over by_journey as from_sla_target_minutes,
    lag(is_sla_met) over by_journey as from_is_sla_met,
    occurred_local_date,
    occurred_iso_week,
    occurred_month
from {{ contacts }}
window by_journey as (partition by journey_id order by contact_sequence)
{% endmacro %}
