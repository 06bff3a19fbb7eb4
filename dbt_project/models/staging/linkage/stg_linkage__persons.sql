with source as (
    select * from {{ source('linkage', 'persons') }}
),

renamed as (
    select
        cast(person_key as string) as person_key,
        cast(is_registered as boolean) as is_registered,
        cast(age_band as string) as age_band,
        cast(postcode_district as string) as postcode_district
    from source
)

select * from renamed
