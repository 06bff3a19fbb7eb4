with

contacts as (
    select * from {{ ref('int_contacts__sequenced') }}
),

journeys as (
    select
        journey_id,
        any_value(person_key) as person_key,
        any_value(service) as service,
        min(occurred_at) as started_at,
        max(occurred_at) as last_contact_at,
        max(resolved_at) as resolved_at,
        count(*) as contacts,
        count(distinct channel) as channels,
        count(*) filter (where is_channel_switch) as switches,
        string_agg(channel, '>' order by contact_sequence) as channel_path,
        string_agg(channel, '>' order by contact_sequence)
            filter (where contact_sequence = 1 or is_channel_switch) as channel_path_collapsed,
        arg_min(channel, contact_sequence) as first_channel,
        arg_max(channel, contact_sequence) as last_channel,
        bool_or(is_resolved) as is_resolved,
        sum(cost_gbp) as total_cost_gbp,
        min(occurred_month) as started_month
    from contacts
    group by journey_id
),

final as (
    select
        *,
        switches > 0 as has_channel_switch,
        epoch(last_contact_at - started_at) / 60.0 as duration_minutes
    from journeys
)

select * from final
