{#- The one definition of a switch trigger: what the earlier contact of a pair left undone when the later one
    came. Columns of the earlier contact carry `earlier` as prefix (outcome, sla_target_minutes,
    first_response_at_utc, is_sla_met); `later_at` is the later contact's occurred_at_utc. The cases are tested
    in this order; every value is defined in the glossary seed (term switch_trigger). -#}
{% macro switch_trigger(earlier, later_at) %}
        case
            when {{ earlier }}outcome = 'failed' then 'failed_self_service'
            when {{ earlier }}outcome = 'abandoned' then 'abandoned'
            when {{ earlier }}sla_target_minutes is null then 'no_response_target'
            when {{ earlier }}first_response_at_utc is null or {{ earlier }}first_response_at_utc > {{ later_at }}
                then case when {{ earlier }}is_sla_met then 'awaiting_response' else 'unanswered' end
            when not {{ earlier }}is_sla_met then 'outside_sla'
            else 'none'
        end
{%- endmacro %}
