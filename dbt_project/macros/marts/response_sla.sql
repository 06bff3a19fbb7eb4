{#- mart_response_sla: attainment of every response target in `targets` (rows of the sla_targets seed) by
    channel, platform, local weekday and hour, and whether the contacts came in or out of the channel's opening
    hours (an hour can hold both: 08:00-08:59 on a channel opening at 08:30, or any hour of a bank holiday
    against the same weekday's ordinary hours), over `contacts` (rows of fct_contacts). -#}
{% macro response_sla(contacts, targets) %}
with

contacts as (
    select * from {{ contacts }}
),

targets as (
    select * from {{ targets }}
    where target_minutes is not null  -- a channel's "no target" row (web_form) judges nothing
),

judged as (
    select
        contacts.channel,
        coalesce(targets.platform, 'all') as platform,
        targets.sla_name,
        targets.target_minutes,
        contacts.occurred_local_weekday,
        contacts.occurred_local_hour,
        contacts.is_out_of_hours,
        contacts.is_responded,
        coalesce(contacts.response_seconds <= targets.target_minutes * 60, false) as is_met
    from contacts
    inner join targets
        on {{ sla_target_applies('targets', 'contacts') }}
),

final as (
    select
        channel,
        platform,
        sla_name,
        target_minutes,
        occurred_local_weekday,
        occurred_local_hour,
        is_out_of_hours,
        count(*) as contacts,
        count(*) filter (where is_responded) as responded,
        count(*) filter (where is_met) as met,
        count(*) filter (where is_met) / count(*) as attainment
    from judged
    group by all
)

select * from final
{% endmacro %}
