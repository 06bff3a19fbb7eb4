{#- Monthly from x to matrix of consecutive contacts in journeys; the diagonal is a repeat in the same channel. -#}
with

transitions as (
    select * from {{ ref('int_contact_transitions') }}
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
