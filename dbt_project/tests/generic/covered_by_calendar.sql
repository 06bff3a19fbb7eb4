{#-
    Every date in the column is in the calendar (int_calendar__dates: the years seeds/bank_holidays.csv
    covers), naming the years that are not: outside them a contact would be judged against a calendar without
    bank holidays.
-#}
{% test covered_by_calendar(model, column_name) %}
{%- set failing_sql -%}
select distinct cast(year({{ column_name }}) as string) as year_outside_the_calendar
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (select date_day from {{ ref('int_calendar__dates') }})
{%- endset -%}
{{ fail_naming_channels(failing_sql,
    model.identifier ~ "." ~ column_name ~ " has dates in year(s) that dbt_project/seeds/bank_holidays.csv does "
    ~ "not cover (regenerate it: python -m joinedup.bank_holidays --first YEAR --last YEAR)") }}
{% endtest %}
