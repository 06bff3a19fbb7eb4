{#- mart_repeat_contact: repeat contacts and failure demand by service and month, with what failure demand
    costs, over `contacts` (rows of fct_contacts). -#}
{% macro repeat_contact(contacts) %}
with

contacts as (
    select * from {{ contacts }}
),

final as (
    select
        service,
        occurred_month,
        count(*) as contacts,
        count(*) filter (where is_repeat_contact) as repeat_contacts,
        count(*) filter (where is_failure_demand) as failure_demand_contacts,
        count(*) filter (where is_repeat_contact) / count(*) as repeat_rate,
        count(*) filter (where is_failure_demand) / count(*) as failure_demand_rate,
        coalesce(sum(cost_gbp) filter (where is_failure_demand), 0) as failure_demand_cost_gbp
    from contacts
    group by all
)

select * from final
{% endmacro %}
