{#-
    Every configured channel's contacts (var `channels`, from joinedup/channels.yml), renamed and cast from the
    pseudonymous lake the link step writes; the source's accepted_channels test fails the build when it holds
    any other channel. The lake's times are naive UTC: here they become the instants they are (TIMESTAMPTZ;
    on Spark, TIMESTAMP).
-#}
with

source as (
    select * from {{ source('linkage', 'contacts') }}
),

renamed as (
    select
        cast(contact_key as string) as contact_key,
        cast(person_key as string) as person_key,
        cast(link_decision as string) as link_decision,
        cast(match_probability as double) as match_probability,
        cast(channel as string) as channel,
        cast(platform as string) as platform,
        cast(source_system as string) as source_system,
        cast(direction as string) as direction,
        coalesce(cast(service as string), 'general') as service,
        cast(outcome as string) as outcome,
        {{ utc_instant('occurred_at') }} as occurred_at_utc,
        {{ utc_instant('first_response_at') }} as first_response_at_utc,
        {{ utc_instant('resolved_at') }} as resolved_at_utc,
        cast(wait_seconds as bigint) as wait_seconds,
        cast(handle_seconds as bigint) as handle_seconds
    from source
),

configured as (
    select * from renamed
    where channel in {{ channel_literals() }}
)

select * from configured
