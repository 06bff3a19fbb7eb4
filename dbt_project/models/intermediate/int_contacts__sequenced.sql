{#-
    Orders each person's contacts about one service and cuts them into journeys: a new journey starts when
    more than `journey_gap_days` pass with no contact. Also marks repeat contacts (within
    `repeat_window_days` of the previous one) and failure demand (a repeat after a contact that did not
    resolve the request).
-#}
-- depends_on: {{ ref('int_touched_persons') }}
{#- Incremental by person on DuckDB; a table on Spark (dbt-spark on plain Parquet cannot delete by key). -#}
{{ config(materialized='table' if target.type == 'spark' else 'incremental', incremental_strategy='replace_keys',
          replace_key='person_key', replace_keys_from='int_touched_persons') }}
with

contacts as (
    select * from {{ ref('int_contacts__linked') }}
    {%- if is_incremental() %}
    where person_key in {{ touched_persons() }}
    {%- endif %}
),

with_previous as (
    select
        *,
        lag(occurred_at_utc) over by_person_service as previous_occurred_at_utc,
        lag(is_resolved) over by_person_service as is_previous_resolved
    from contacts
    window by_person_service as (partition by person_key, service order by occurred_at_utc, contact_key)
),

flagged as (
    select
        *,
        previous_occurred_at_utc is null
            or {{ seconds_between('previous_occurred_at_utc', 'occurred_at_utc') }} > {{ var('journey_gap_days') }} * 86400
            as is_journey_start,
        previous_occurred_at_utc is not null
            and {{ seconds_between('previous_occurred_at_utc', 'occurred_at_utc') }} <= {{ var('repeat_window_days') }} * 86400
            as is_repeat_contact
    from with_previous
),

numbered as (
    select
        *,
        sum(case when is_journey_start then 1 else 0 end) over (
            partition by person_key, service
            order by occurred_at_utc, contact_key
            rows between unbounded preceding and current row
        ) as journey_number
    from flagged
),

in_journey as (
    select
        *,
        first_value(contact_key) over by_journey as first_contact_key,
        -- bigint on both engines: Spark's row_number() is an INT, DuckDB's a BIGINT, and the analytics file has one layout
        cast(row_number() over by_journey as bigint) as contact_sequence,
        lag(channel) over by_journey as previous_channel
    from numbered
    window by_journey as (partition by person_key, service, journey_number order by occurred_at_utc, contact_key)
),

final as (
    select
        md5(person_key || '|' || service || '|' || first_contact_key) as journey_id,
        contact_sequence,
        * except (first_contact_key, journey_number, contact_sequence, previous_occurred_at_utc, is_previous_resolved),
        is_repeat_contact and not coalesce(is_previous_resolved, false) as is_failure_demand,
        previous_channel is not null and previous_channel <> channel as is_channel_switch
    from in_journey
)

{{ person_incremental_output('final') }}
