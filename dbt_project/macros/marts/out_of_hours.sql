{#- mart_out_of_hours: contacts by channel, local weekday and hour, and how many fall outside opening hours,
    over `contacts` (rows of fct_contacts). -#}
{% macro out_of_hours(contacts) %}
with

contacts as (
    select * from {{ contacts }}
),

final as (
    select
        channel,
        occurred_local_weekday,
        occurred_local_hour,
        count(*) as contacts,
        count(*) filter (where is_out_of_hours) as out_of_hours_contacts,
        count(*) filter (where is_out_of_hours) / count(*) as out_of_hours_share
    from contacts
    group by all
)

select * from final
{% endmacro %}
