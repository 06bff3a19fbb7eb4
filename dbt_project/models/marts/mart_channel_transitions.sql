{#- Monthly from x to matrix of consecutive contacts in journeys; the diagonal is a repeat in the same channel.
    The definition is the macro channel_transitions (macros/marts/), which the report also runs on its
    filtered contacts (see mart_definitions). -#}
{{ channel_transitions(ref('fct_contacts')) }}
