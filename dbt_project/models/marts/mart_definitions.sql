{#-
    The SQL of each aggregate mart the report filters, rendered from the same macros the mart models call
    (macros/marts/), with its inputs as placeholder relations: "input:contacts" (the contacts to count) and
    "input:journey_contacts" (every contact of their journeys, to pair consecutive contacts). The seed a
    definition needs (sla_targets) is inlined as values, so the published analytics file alone is enough to
    re-derive a mart on filtered contacts (joinedup/report/scope.py). The report runs them on DuckDB, so
    they are rendered as DuckDB SQL on every target (the `dialect` argument, macros/dialect.sql). One more row is not a mart: switch_trigger
    classifies "input:pairs" (an earlier contact's from_* columns and a later to_occurred_at_utc) with the
    marts' trigger definition, for the headline estimate (joinedup/report/estimate.py).
-#}
{%- set contacts = '"input:contacts"' -%}
{%- set journey_contacts = '"input:journey_contacts"' -%}
{%- set definitions = {
    'mart_channel_transitions': channel_transitions(journey_contacts, later_contacts=contacts, dialect='duckdb'),
    'mart_response_sla': response_sla(contacts, relation_as_values(ref('sla_targets'), dialect='duckdb')),
    'mart_repeat_contact': repeat_contact(contacts),
    'mart_channel_shift': channel_shift(contacts),
    'mart_out_of_hours': out_of_hours(contacts),
    'switch_trigger': 'select *, ' ~ switch_trigger('from_', 'to_occurred_at_utc') ~ ' as switch_trigger from "input:pairs"',
} -%}
with

definitions as (
    select * from (values
    {%- for name, sql in definitions.items() %}
        ('{{ name }}', {{ sql_text_literal(sql | trim) }}){{ ',' if not loop.last }}
    {%- endfor %}
    ) as definitions (mart_name, definition_sql)
),

final as (
    select
        mart_name,
        definition_sql
    from definitions
)

select * from final
