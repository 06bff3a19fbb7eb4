{#-
    Every local (Europe/London) calendar date of the years the bank_holidays seed covers, with its ISO week,
    month, weekday and whether it is an England and Wales bank holiday. The seed's years are the calendar's:
    regenerate the seed to extend it (python -m joinedup.bank_holidays; seeds/_seeds.yml).
-#}
with

bank_holidays as (
    select * from {{ ref('bank_holidays') }}
),

bounds as (
    select
        make_date(cast(min(year(holiday_date)) as bigint), 1, 1) as first_day,
        make_date(cast(max(year(holiday_date)) as bigint), 12, 31) as last_day
    from bank_holidays
),

spine as (
    select {{ each_day('first_day', 'last_day') }} as date_day
    from bounds
),

final as (
    select
        spine.date_day,
        -- bigint on both engines: Spark's year(), weekofyear() and weekday is an INT, DuckDB's a BIGINT, and the analytics file has one layout
        cast(year(spine.date_day) as bigint) as calendar_year,
        cast(date_trunc('month', spine.date_day) as date) as month_start_date,
        {{ month_label('spine.date_day') }} as month_label,
        cast({{ iso_year('spine.date_day') }} as bigint) as iso_year,
        cast(weekofyear(spine.date_day) as bigint) as iso_week_number,
        {{ iso_week('spine.date_day') }} as iso_week,
        cast(date_trunc('week', spine.date_day) as date) as iso_week_start_date,
        cast({{ iso_weekday('spine.date_day') }} as bigint) as iso_weekday,
        {{ weekday_name('spine.date_day') }} as weekday_name,
        {{ iso_weekday('spine.date_day') }} >= 6 as is_weekend,
        bank_holidays.holiday_date is not null as is_bank_holiday,
        bank_holidays.holiday_name as bank_holiday_name,
        {{ iso_weekday('spine.date_day') }} <= 5 and bank_holidays.holiday_date is null as is_working_day
    from spine
    left join bank_holidays on spine.date_day = bank_holidays.holiday_date
)

select * from final
