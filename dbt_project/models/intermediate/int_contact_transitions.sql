{#-
    Every consecutive pair of contacts inside a journey, with what the earlier contact left undone: the
    trigger that explains why the citizen came back, in the same channel or another. Every trigger is defined
    in the glossary seed (term switch_trigger) and decided by the macro switch_trigger, in the order its cases
    test them. "unanswered" needs a response target that was missed: a channel without one (web forms, whose
    exports carry no response time) gives no_response_target instead.
-#}
-- depends_on: {{ ref('int_touched_persons') }}
{#- Incremental by person on DuckDB; a table on Spark (dbt-spark on plain Parquet cannot delete by key). -#}
{{ config(materialized='table' if target.type == 'spark' else 'incremental', incremental_strategy='replace_keys',
          replace_key='person_key', replace_keys_from='int_touched_persons') }}
with

sequenced as (
    select * from {{ ref('int_contacts__sequenced') }}
    {%- if is_incremental() %}
    where person_key in {{ touched_persons() }}
    {%- endif %}
),

pairs as (
    {{ consecutive_contacts('sequenced') }}
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
        {{ seconds_between('from_occurred_at_utc', 'to_occurred_at_utc') }} / 60.0 as minutes_between,
        from_channel <> to_channel as is_channel_switch,
        {{ switch_trigger('from_', 'to_occurred_at_utc') }} as switch_trigger,
        occurred_local_date,
        occurred_iso_week,
        occurred_month
    from pairs
    where from_contact_key is not null
)

{{ person_incremental_output('classified') }}
