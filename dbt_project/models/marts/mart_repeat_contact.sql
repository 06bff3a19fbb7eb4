{#- Repeat contacts and failure demand by service and month, with what failure demand costs. The definition is
    the macro repeat_contact (macros/marts/), shared with the report's filters. -#}
{{ repeat_contact(ref('fct_contacts')) }}
