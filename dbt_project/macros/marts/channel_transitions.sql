{#-
    mart_channel_transitions: every consecutive pair of contacts in a journey, counted by month, from channel
    and to channel. Pairs are formed over `contacts` (whole journeys) and counted only where the later contact
    is in `later_contacts`, when given: a filtered report passes its filtered contacts there, so a pair whose
    earlier contact falls before the period still counts, as it does in the mart.
-#}
{% macro channel_transitions(contacts, later_contacts=none, dialect=none) %}
with

pairs as (
    select
        to_contact_key,
        person_key,
        occurred_month,
        from_channel,
        to_channel,
        {{ seconds_between('from_occurred_at_utc', 'to_occurred_at_utc', dialect) }} / 60.0 as minutes_between
    from ({{ consecutive_contacts(contacts) }})
    where from_contact_key is not null
),

transitions as (
    select * from pairs
    where true
    {%- if later_contacts is not none %}
        and to_contact_key in (select contact_key from {{ later_contacts }})
    {%- endif %}
),

final as (
    select
        occurred_month,
        from_channel,
        to_channel,
        from_channel <> to_channel as is_channel_switch,
        count(*) as transitions,
        count(distinct person_key) as persons,
        median(minutes_between) as median_minutes_between
    from transitions
    group by all
)

select * from final
{% endmacro %}
