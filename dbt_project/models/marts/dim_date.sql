{#- The calendar BI tools join the facts to on their local dates (fct_contacts.occurred_local_date,
    fct_channel_switches.occurred_local_date, fct_journeys.started_local_date). -#}
with

dates as (
    select * from {{ ref('int_calendar__dates') }}
),

final as (
    select
        date_day,
        calendar_year,
        month_start_date,
        month_label,
        iso_year,
        iso_week_number,
        iso_week,
        iso_week_start_date,
        iso_weekday,
        weekday_name,
        is_weekend,
        is_bank_holiday,
        bank_holiday_name,
        is_working_day
    from dates
)

select * from final
