-- depends_on: {{ ref('int_touched_persons') }}
{#- Incremental by person on DuckDB (macros/incremental/person_incremental.sql). On Spark a table partitioned by
    month (BI reads months): dbt-spark on plain Parquet cannot delete by key, so its build is a full one. -#}
{{ config(materialized='table' if target.type == 'spark' else 'incremental', incremental_strategy='replace_keys',
          replace_key='person_key', replace_keys_from='int_touched_persons',
          partition_by=['started_month'] if target.type == 'spark' else none) }}

with

contacts as (
    select * from {{ ref('int_contacts__sequenced') }}
    {%- if is_incremental() %}
    where person_key in {{ touched_persons() }}
    {%- endif %}
),

journeys as (
    select
        journey_id,
        any_value(person_key) as person_key,
        any_value(service) as service,
        min(occurred_at_utc) as started_at_utc,
        max(occurred_at_utc) as last_contact_at_utc,
        max(resolved_at_utc) as resolved_at_utc,
        count(*) as contacts,
        count(distinct channel) as channels,
        count(*) filter (where is_channel_switch) as switches,
        {{ ordered_string_agg('channel', '>', 'contact_sequence') }} as channel_path,
        {{ ordered_string_agg('channel', '>', 'contact_sequence',
            filter='contact_sequence = 1 or is_channel_switch') }} as channel_path_collapsed,
        min_by(channel, contact_sequence) as first_channel,
        max_by(channel, contact_sequence) as last_channel,
        bool_or(is_resolved) as is_resolved,
        sum(cost_gbp) as total_cost_gbp,
        min_by(occurred_local_date, contact_sequence) as started_local_date,
        min_by(occurred_iso_week, contact_sequence) as started_iso_week,
        min(occurred_month) as started_month
    from contacts
    group by journey_id
),

final as (
    select
        journey_id,
        person_key,
        service,
        started_at_utc,
        {{ local_wall_clock('started_at_utc') }} as started_at_local,
        last_contact_at_utc,
        {{ local_wall_clock('last_contact_at_utc') }} as last_contact_at_local,
        resolved_at_utc,
        {{ local_wall_clock('resolved_at_utc') }} as resolved_at_local,
        contacts,
        channels,
        switches,
        channel_path,
        channel_path_collapsed,
        first_channel,
        last_channel,
        is_resolved,
        total_cost_gbp,
        started_local_date,
        started_iso_week,
        started_month,
        switches > 0 as has_channel_switch,
        {{ seconds_between('started_at_utc', 'last_contact_at_utc') }} / 60.0 as duration_minutes
    from journeys
)

{{ person_incremental_output('final') }}
