with source as (
    select * from {{ source('linkage', 'persons') }}
),

renamed as (
    select
        cast(person_key as varchar) as person_key,
        cast(is_registered as boolean) as is_registered,
        cast(age_band as varchar) as age_band,
        cast(postcode_district as varchar) as postcode_district
    from source
)

select * from renamed
