{#-
    Every consecutive pair of contacts inside a journey, with what the earlier contact left undone: the
    trigger that explains why the citizen came back, in the same channel or another. Every trigger is defined
    in the glossary seed (term switch_trigger), in the order the cases below test them. "unanswered" needs a
    response target that was missed: a channel without one (web forms, whose exports carry no response time)
    gives no_response_target instead.
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
        from_occurred_at_utc,
        from_occurred_at_local,
        to_occurred_at_utc,
        to_occurred_at_local,
        epoch(to_occurred_at_utc - from_occurred_at_utc) / 60.0 as minutes_between,
        from_channel <> to_channel as is_channel_switch,
        case
            when from_outcome = 'failed' then 'failed_self_service'
            when from_outcome = 'abandoned' then 'abandoned'
            when from_sla_target_minutes is null then 'no_response_target'
            when from_first_response_at_utc is null or from_first_response_at_utc > to_occurred_at_utc
                then case when from_is_sla_met then 'awaiting_response' else 'unanswered' end
            when not from_is_sla_met then 'outside_sla'
            else 'none'
        end as switch_trigger,
        occurred_local_date,
        occurred_iso_week,
        occurred_month
    from pairs
    where from_contact_key is not null
)

select * from classified
