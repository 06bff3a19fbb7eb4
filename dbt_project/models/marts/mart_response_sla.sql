{#- Attainment of every response target (social has both the 15-minute and the 2-hour one) by local hour and
    weekday. The definition is the macro response_sla (macros/marts/), shared with the report's filters. -#}
{{ response_sla(ref('fct_contacts'), ref('sla_targets')) }}
