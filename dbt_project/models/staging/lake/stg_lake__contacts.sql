{#-
    Every channel lands in the lake in the canonical contact schema (docs/data-contract.md), so one
    rename-and-cast covers them all. Only the configured channels (var `channels`, from joinedup/channels.yml)
    are kept; the source's accepted_channels test fails the build when the lake holds any other. Identity
    fields (names, emails, phones, handles, addresses, free text) are deliberately not selected: they stay in
    the lake and the identity store.
-#}
with

source as (
    select * from {{ source('lake', 'contacts') }}
),

renamed as (
    select
        cast(contact_id as varchar) as contact_id,
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
