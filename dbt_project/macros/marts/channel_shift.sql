{#- mart_channel_shift: monthly channel mix and what a contact costs on average as the mix shifts, over
    `contacts` (rows of fct_contacts). -#}
{% macro channel_shift(contacts) %}
with

contacts as (
    select * from {{ contacts }}
),

by_channel as (
    select
        occurred_month,
        channel,
        count(*) as contacts,
        sum(cost_gbp) as cost_gbp
    from contacts
    group by all
),

final as (
    select
        occurred_month,
        channel,
        contacts,
        contacts / sum(contacts) over (partition by occurred_month) as channel_share,
        cost_gbp,
        cost_gbp / contacts as cost_per_contact_gbp,
        sum(cost_gbp) over (partition by occurred_month)
            / sum(contacts) over (partition by occurred_month) as month_cost_per_contact_gbp
    from by_channel
)

select * from final
{% endmacro %}
