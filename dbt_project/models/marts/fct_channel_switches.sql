-- depends_on: {{ ref('int_touched_persons') }}
{#- Incremental by person on DuckDB (macros/incremental/person_incremental.sql). On Spark a table partitioned by
    month (BI reads months): dbt-spark on plain Parquet cannot delete by key, so its build is a full one. -#}
{{ config(materialized='table' if target.type == 'spark' else 'incremental', incremental_strategy='replace_keys',
          replace_key='person_key', replace_keys_from='int_touched_persons',
          partition_by=['occurred_month'] if target.type == 'spark' else none) }}

with

transitions as (
    select * from {{ ref('int_contact_transitions') }}
    {%- if is_incremental() %}
    where person_key in {{ touched_persons() }}
    {%- endif %}
),

final as (
    select
        transition_id as switch_id,
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
        minutes_between,
        switch_trigger,
        occurred_local_date,
        occurred_iso_week,
        occurred_month
    from transitions
    where is_channel_switch
)

{{ person_incremental_output('final') }}
