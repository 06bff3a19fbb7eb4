{#- The most common journey paths, as walked (phone>phone>email) and with repeats collapsed (phone>email). -#}
with

journeys as (
    select * from {{ ref('fct_journeys') }}
),

both_kinds as (
    select 'uncollapsed' as path_kind, channel_path as path, * except (channel_path) from journeys
    union all
    select 'collapsed' as path_kind, channel_path_collapsed as path, * except (channel_path) from journeys
),

counted as (
    select
        path_kind,
        path,
        count(*) as journeys,
        count(distinct person_key) as persons,
        avg(contacts) as avg_contacts,
        -- double, not 1.0/0.0: Spark averages a DECIMAL into a DECIMAL rounded to 5 places, DuckDB into a DOUBLE
        avg(case when is_resolved then cast(1 as double) else cast(0 as double) end) as resolved_share,
        avg(total_cost_gbp) as avg_cost_gbp,
        count(*) / sum(count(*)) over (partition by path_kind) as share_of_journeys
    from both_kinds
    group by path_kind, path
),

ranked as (
    select
        *,
        -- bigint on both engines: Spark's row_number() is an INT, DuckDB's a BIGINT, and the analytics file has one layout
        cast(row_number() over (partition by path_kind order by journeys desc, path) as bigint) as path_rank
    from counted
)

select * from ranked
where path_rank <= {{ var('top_paths') }}
