with

persons as (
    select * from {{ ref('stg_linkage__persons') }}
),

activity as (
    select
        person_key,
        min(occurred_at_utc) as first_contact_at_utc,
        max(occurred_at_utc) as last_contact_at_utc,
        count(*) as contacts,
        count(distinct journey_id) as journeys,
        count(distinct channel) as channels
    from {{ ref('int_contacts__sequenced') }}
    group by person_key
),

final as (
    select
        persons.person_key,
        persons.is_registered,
        coalesce(persons.age_band, 'unknown') as age_band,
        coalesce(persons.postcode_district, 'unknown') as postcode_district,
        activity.first_contact_at_utc,
        {{ local_wall_clock('activity.first_contact_at_utc') }} as first_contact_at_local,
        activity.last_contact_at_utc,
        {{ local_wall_clock('activity.last_contact_at_utc') }} as last_contact_at_local,
        coalesce(activity.contacts, 0) as contacts,
        coalesce(activity.journeys, 0) as journeys,
        coalesce(activity.channels, 0) as channels
    from persons
    left join activity on persons.person_key = activity.person_key
)

select * from final
