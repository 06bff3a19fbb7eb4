with source as (
    select * from {{ source('linkage', 'contact_persons') }}
),

renamed as (
    select
        cast(contact_id as varchar) as contact_id,
        cast(contact_key as varchar) as contact_key,
        cast(person_key as varchar) as person_key,
        cast(decision as varchar) as link_decision,
        cast(match_probability as double) as match_probability
    from source
)

select * from renamed
