{#-
    Each channel's opening hours on each calendar date: the one definition of "out of hours". The hours come
    from joinedup/channels.yml (var opening_hours); a channel is closed on the weekdays it does not open and on
    bank holidays unless its hours say `bank_holidays: open`. Times are local wall clock, with the instants
    they are beside them (right on the clock-change Sundays).
-#}
with

dates as (
    select * from {{ ref('int_calendar__dates') }}
),

opening_hours as (
    select * from {{ opening_hours_relation() }}
),

by_day as (
    select
        opening_hours.channel,
        dates.date_day,
        {{ array_has('opening_hours.iso_weekdays', 'dates.iso_weekday') }}
            and (opening_hours.is_open_on_bank_holidays or not dates.is_bank_holiday) as is_open,
        {{ local_time_on('dates.date_day', 'opening_hours.opens') }} as opens_at_local,
        {{ local_time_on('dates.date_day', 'opening_hours.closes') }} as closes_at_local
    from dates
    cross join opening_hours
),

final as (
    select
        channel,
        date_day,
        is_open,
        case when is_open then {{ local_to_instant('opens_at_local') }} end as opens_at_utc,
        case when is_open then opens_at_local end as opens_at_local,
        case when is_open then {{ local_to_instant('closes_at_local') }} end as closes_at_utc,
        case when is_open then closes_at_local end as closes_at_local
    from by_day
)

select * from final
