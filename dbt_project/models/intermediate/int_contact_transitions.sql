{#-
    Every consecutive pair of contacts inside a journey, with what the earlier contact left undone: the
    trigger that explains why the citizen came back, in the same channel or another.
-#}
with

pairs as (
    {{ consecutive_contacts(ref('int_contacts__sequenced')) }}
),

classified as (
    select
        md5(from_contact_key || '>' || to_contact_key) as transition_id,
        journey_id,
        person_key,
        service,
        from_contact_key,
        to_contact_key,
        from_channel,
        to_channel,
        from_occurred_at,
        to_occurred_at,
        epoch(to_occurred_at - from_occurred_at) / 60.0 as minutes_between,
        from_channel <> to_channel as is_channel_switch,
        case
            when from_outcome = 'failed' then 'failed_self_service'
            when from_outcome = 'abandoned' then 'abandoned'
            when from_first_response_at is null or from_first_response_at > to_occurred_at then 'unanswered'
            when not from_is_sla_met then 'outside_sla'
            else 'none'
        end as switch_trigger,
        occurred_month
    from pairs
    where from_contact_key is not null
)

select * from classified
