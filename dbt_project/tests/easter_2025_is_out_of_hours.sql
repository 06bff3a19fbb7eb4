{#-
    The real calendar, not a fixture: Good Friday (18 April) and Easter Monday (21 April) 2025 are England and
    Wales bank holidays in dim_date, and every channel closed on bank holidays is closed on them all day.
-#}
with

easter as (
    select * from {{ ref('dim_date') }}
    where date_day in (date '2025-04-18', date '2025-04-21')
),

opening_hours as (
    select * from {{ ref('dim_opening_hours') }}
    where date_day in (date '2025-04-18', date '2025-04-21')
),

failures as (
    select 'not a bank holiday in dim_date: ' || cast(date_day as string) as failure
    from easter
    where not is_bank_holiday
    union all
    select 'missing from dim_date: ' || cast(expected as string)
    from (values (date '2025-04-18'), (date '2025-04-21')) as e (expected)
    where expected not in (select date_day from easter)
    union all
    select 'open on a bank holiday: ' || channel || ' ' || cast(date_day as string)
    from opening_hours
    where is_open
        and channel in (
            {%- set hours = configured_opening_hours() -%}
            {%- set closed = [] -%}
            {%- for channel in configured_channels() if not hours[channel]['open_on_bank_holidays'] -%}
                {%- do closed.append(dbt.string_literal(channel)) -%}
            {%- endfor -%}
            {{ closed | join(', ') if closed else "''" }})
)

select * from failures
