{#- The glossary (seed glossary) published with the marts, so the report and BI users read the one definition
    of every channel, outcome, switch trigger and response target from the analytics file. -#}
with

glossary as (
    select * from {{ ref('glossary') }}
),

final as (
    select
        term,
        code,
        display_order,
        label,
        definition
    from glossary
)

select * from final
