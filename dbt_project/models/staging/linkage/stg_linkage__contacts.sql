{#-
    Every configured channel's contacts (var `channels`, from joinedup/channels.yml), renamed and cast from the
    pseudonymous lake the link step writes; the source's accepted_channels test fails the build when it holds
    any other channel.
-#}
with

source as (
    select * from {{ source('linkage', 'contacts') }}
),

renamed as (
    select
        cast(contact_key as varchar) as contact_key,
        cast(person_key as varchar) as person_key,
        cast(link_decision as varchar) as link_decision,
        cast(match_probability as double) as match_probability,
        cast(channel as varchar) as channel,
        cast(platform as varchar) as platform,
        cast(source_system as varchar) as source_system,
        cast(direction as varchar) as direction,
        coalesce(cast(service as varchar), 'general') as service,
        cast(outcome as varchar) as outcome,
        cast(occurred_at as timestamp) as occurred_at,
        cast(first_response_at as timestamp) as first_response_at,
        cast(resolved_at as timestamp) as resolved_at,
        cast(wait_seconds as bigint) as wait_seconds,
        cast(handle_seconds as bigint) as handle_seconds
    from source
),

configured as (
    select * from renamed
    where channel in {{ channel_literals() }}
)

select * from configured
