{#- When demand comes: contacts by channel, local weekday and hour, and how many fall outside opening hours.
    The definition is the macro out_of_hours (macros/marts/), shared with the report's filters. -#}
{{ out_of_hours(ref('fct_contacts')) }}
