{#- Monthly channel mix and what a contact costs on average as the mix shifts. The definition is the macro
    channel_shift (macros/marts/), shared with the report's filters. -#}
{{ channel_shift(ref('fct_contacts')) }}
