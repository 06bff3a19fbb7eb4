-- depends_on: {{ ref('int_touched_persons') }}
{#- Incremental by person on DuckDB (macros/incremental/person_incremental.sql). On Spark a table partitioned by
    month (BI reads months): dbt-spark on plain Parquet cannot delete by key, so its build is a full one. -#}
{{ config(materialized='table' if target.type == 'spark' else 'incremental', incremental_strategy='replace_keys',
          replace_key='person_key', replace_keys_from='int_touched_persons',
          partition_by=['occurred_month'] if target.type == 'spark' else none) }}

with

contacts as (
    select * from {{ ref('int_contacts__sequenced') }}
    {%- if is_incremental() %}
    where person_key in {{ touched_persons() }}
    {%- endif %}
),

final as (
    select
        contact_key,
        person_key,
        journey_id,
        contact_sequence,
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
        occurred_local_date,
        occurred_iso_week,
        occurred_month,
        occurred_local_hour,
        occurred_local_weekday,
        wait_seconds,
        handle_seconds,
        response_seconds,
        sla_name,
        sla_target_minutes,
        is_responded,
        is_sla_met,
        is_out_of_hours,
        is_resolved,
        is_repeat_contact,
        is_failure_demand,
        is_channel_switch,
        cost_gbp,
        link_decision,
        match_probability
    from contacts
)

{{ person_incremental_output('final') }}
