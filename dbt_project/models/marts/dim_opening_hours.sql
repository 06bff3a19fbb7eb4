{#- Each channel's opening hours on each date (joinedup/channels.yml): what "out of hours" means in
    fct_contacts, mart_out_of_hours and mart_response_sla. -#}
with

opening_hours as (
    select * from {{ ref('int_calendar__opening_hours') }}
),

final as (
    select
        channel,
        date_day,
        is_open,
        opens_at_utc,
        opens_at_local,
        closes_at_utc,
        closes_at_local
    from opening_hours
)

select * from final
