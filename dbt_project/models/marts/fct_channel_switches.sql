{#- On Spark the table is partitioned by month (BI reads months); DuckDB tables have no partitions. -#}
{{ config(partition_by=['occurred_month'] if target.type == 'spark' else none) }}

with

transitions as (
    select * from {{ ref('int_contact_transitions') }}
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

select * from final
