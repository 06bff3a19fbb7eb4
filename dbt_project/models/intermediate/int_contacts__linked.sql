{#-
    Contacts with the person linkage resolved them to, their cost, the primary response target for their
    channel, and the local-time facts that reporting groups by. Identity stays out: only keyed hashes.
-#}
with

contacts as (
    select * from {{ ref('stg_linkage__contacts') }}
),

costs as (
    select * from {{ ref('channel_costs') }}
),

primary_targets as (
    select * from {{ ref('sla_targets') }}
    where is_primary
),

joined as (
    select
        contacts.contact_key,
        contacts.person_key,
        contacts.link_decision,
        contacts.match_probability,
        contacts.channel,
        contacts.platform,
        contacts.service,
        contacts.direction,
        contacts.outcome,
        contacts.occurred_at,
        contacts.first_response_at,
        contacts.resolved_at,
        contacts.wait_seconds,
        contacts.handle_seconds,
        {{ local_time('contacts.occurred_at') }} as occurred_local,
        primary_targets.sla_name,
        primary_targets.target_minutes as sla_target_minutes,
        costs.cost_per_contact_gbp as cost_gbp
    from contacts
    left join costs on contacts.channel = costs.channel
    left join primary_targets
        on {{ sla_target_applies('primary_targets', 'contacts') }}
),

final as (
    select
        contact_key,
        person_key,
        link_decision,
        match_probability,
        channel,
        platform,
        service,
        direction,
        outcome,
        occurred_at,
        first_response_at,
        resolved_at,
        wait_seconds,
        handle_seconds,
        cast(occurred_local as date) as occurred_local_date,
        cast(date_trunc('month', occurred_local) as date) as occurred_month,
        hour(occurred_local) as occurred_local_hour,
        isodow(occurred_local) as occurred_local_weekday,
        epoch(first_response_at - occurred_at) as response_seconds,
        sla_name,
        sla_target_minutes,
        first_response_at is not null as is_responded,
        case
            when sla_target_minutes is not null
                then coalesce(epoch(first_response_at - occurred_at) <= sla_target_minutes * 60, false)
        end as is_sla_met,
        (
            isodow(occurred_local) > 5
            or hour(occurred_local) + minute(occurred_local) / 60.0 < {{ var('office_open_hour') }}
            or hour(occurred_local) + minute(occurred_local) / 60.0 >= {{ var('office_close_hour') }}
        ) as is_out_of_hours,
        outcome in ('missed', 'no_response') as is_unanswered,
        outcome = 'abandoned' as is_abandoned,
        outcome = 'failed' as is_failed_self_service,
        resolved_at is not null or outcome = 'resolved' as is_resolved,
        cost_gbp
    from joined
)

select * from final
