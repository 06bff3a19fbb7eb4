{#-
    Contacts with the person linkage resolved them to, their cost, the primary response target for their
    channel, their local (Europe/London) times and whether they came out of the channel's opening hours.
    Identity stays out: only keyed hashes.
-#}
-- depends_on: {{ ref('int_touched_persons') }}
{#- Incremental by person on DuckDB; a table on Spark (dbt-spark on plain Parquet cannot delete by key). -#}
{{ config(materialized='table' if target.type == 'spark' else 'incremental', incremental_strategy='replace_keys',
          replace_key='person_key', replace_keys_from='int_touched_persons') }}
with

contacts as (
    select * from {{ ref('stg_linkage__contacts') }}
    {%- if is_incremental() %}
    where person_key in {{ touched_persons() }}
    {%- endif %}
),

costs as (
    select * from {{ ref('channel_costs') }}
),

primary_targets as (
    select * from {{ ref('sla_targets') }}
    where is_primary
),

opening_hours as (
    select * from {{ ref('int_calendar__opening_hours') }}
),

localised as (
    select
        *,
        {{ local_wall_clock('occurred_at_utc') }} as occurred_at_local,
        {{ local_wall_clock('first_response_at_utc') }} as first_response_at_local,
        {{ local_wall_clock('resolved_at_utc') }} as resolved_at_local
    from contacts
),

joined as (
    select
        localised.contact_key,
        localised.person_key,
        localised.link_decision,
        localised.match_probability,
        localised.channel,
        localised.platform,
        localised.service,
        localised.direction,
        localised.outcome,
        localised.occurred_at_utc,
        localised.occurred_at_local,
        localised.first_response_at_utc,
        localised.first_response_at_local,
        localised.resolved_at_utc,
        localised.resolved_at_local,
        localised.wait_seconds,
        localised.handle_seconds,
        primary_targets.sla_name,
        primary_targets.target_minutes as sla_target_minutes,
        costs.cost_per_contact_gbp as cost_gbp,
        opening_hours.opens_at_local,
        opening_hours.closes_at_local
    from localised
    left join costs on localised.channel = costs.channel
    left join primary_targets
        on {{ sla_target_applies('primary_targets', 'localised') }}
    left join opening_hours
        on localised.channel = opening_hours.channel
        and cast(localised.occurred_at_local as date) = opening_hours.date_day
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
        occurred_at_utc,
        occurred_at_local,
        first_response_at_utc,
        first_response_at_local,
        resolved_at_utc,
        resolved_at_local,
        wait_seconds,
        handle_seconds,
        cast(occurred_at_local as date) as occurred_local_date,
        {{ iso_week('cast(occurred_at_local as date)') }} as occurred_iso_week,
        cast(date_trunc('month', occurred_at_local) as date) as occurred_month,
        -- bigint on both engines: Spark's hour() and weekday is an INT, DuckDB's a BIGINT, and the analytics file has one layout
        cast(hour(occurred_at_local) as bigint) as occurred_local_hour,
        cast({{ iso_weekday('occurred_at_local') }} as bigint) as occurred_local_weekday,
        {{ seconds_between('occurred_at_utc', 'first_response_at_utc') }} as response_seconds,
        sla_name,
        sla_target_minutes,
        first_response_at_utc is not null as is_responded,
        case
            when sla_target_minutes is not null
                then coalesce({{ seconds_between('occurred_at_utc', 'first_response_at_utc') }} <= sla_target_minutes * 60, false)
        end as is_sla_met,
        -- closed that day (no opening row: a closed weekday or a bank holiday), or outside [opens, closes)
        not coalesce(occurred_at_local >= opens_at_local and occurred_at_local < closes_at_local, false)
            as is_out_of_hours,
        outcome in ('missed', 'no_response') as is_unanswered,
        outcome = 'abandoned' as is_abandoned,
        outcome = 'failed' as is_failed_self_service,
        resolved_at_utc is not null or outcome = 'resolved' as is_resolved,
        cost_gbp
    from joined
)

{{ person_incremental_output('final') }}
