{#-
    The incremental daily run (issue 20): the person-keyed models rebuild only the persons whose contacts changed
    since the last successful build (int_touched_persons), and must equal a full rebuild
    (tests/journeys/test_incremental_marts.py). Why by person: every window of those models is partitioned by
    person_key (or by journey_id, which is inside one person), so a person's rows depend on that person's contacts
    and on the definitions only. Changed definitions (seeds, vars, model code) are not seen here: the orchestrator
    compares a fingerprint of them and runs dbt with --full-refresh (joinedup/dbt_definitions.py).

    Each macro dispatches, so that an engine that cannot delete by key (dbt-spark on plain Parquet) can add its
    own variant (copy-on-write of person buckets) without touching the models.
-#}

{#-
    incremental_strategy='replace_keys': delete every row of the target whose `replace_key` is in the model named
    by `replace_keys_from` (the old keys of renamed persons included), then insert the rebuilt rows. Both
    statements run in the materialization's one transaction, so a killed run leaves the previous table whole.
    The model is named in config, not passed as ref(): a ref() inside config() renders as the model itself at
    parse time (research finding 4), which deleted every row.
-#}
{% macro get_incremental_replace_keys_sql(arg_dict) %}
    {{- return(adapter.dispatch('replace_keys_sql')(arg_dict)) -}}
{% endmacro %}

{% macro default__replace_keys_sql(arg_dict) %}
    {%- set key = config.require('replace_key') -%}
    {%- set keys_from = ref(config.require('replace_keys_from')) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set cols = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} where {{ key }} in (select {{ key }} from {{ keys_from }});
    insert into {{ target }} ({{ cols }}) select {{ cols }} from {{ arg_dict['temp_relation'] }}
{% endmacro %}

{#- The touched persons' keys as a subquery, for a model's incremental filter: `where person_key in {{ ... }}`. -#}
{% macro touched_persons() %}
    {{- return(adapter.dispatch('touched_persons')()) -}}
{% endmacro %}

{% macro default__touched_persons() -%}
    (select person_key from {{ ref('int_touched_persons') }})
{%- endmacro %}

{#-
    The rows a person-keyed model outputs from its last CTE. On DuckDB that is the rebuilt persons' rows, which
    replace_keys swaps in. (An engine that overwrites whole partitions adds the untouched rows of the touched
    partitions here.)
-#}
{% macro person_incremental_output(relation_name) %}
    {{- return(adapter.dispatch('person_incremental_output')(relation_name)) -}}
{% endmacro %}

{% macro default__person_incremental_output(relation_name) -%}
    select * from {{ relation_name }}
{%- endmacro %}

{#-
    Each person's state as the marts see it: (person_key, contacts, state_hash), the number of the person's
    contacts and the sum of a hash of each contact's whole row of `contacts` (stg_linkage__contacts).
    int_touched_persons compares it with the state int_contacts__state kept after the last build: a contact
    added, removed, edited or moved changes the count or the sum of every person it touches (both persons of a
    move). One row per person, not per contact: a council year's diff is 750k rows, not 2.7M, and the contacts
    are hashed as whole rows, not cast to text and joined (23 s -> about 5 s on the council year). Both models
    call this, so both hash alike.
-#}
{% macro persons_state(contacts) %}
    {{- return(adapter.dispatch('persons_state')(contacts)) -}}
{% endmacro %}

{#- DuckDB hashes a row as a struct: NULLs are told apart by position, and nothing is cast to text. -#}
{% macro duckdb__persons_state(contacts) -%}
    select
        person_key,
        count(*) as contacts,
        -- decimal(38, 0), as on Spark: a HUGEINT would be written to Parquet (the gate's and publish's copies) as
        -- a DOUBLE, which cannot tell a sum from the sum plus one
        cast(sum(hash(contact_rows)) as decimal(38, 0)) as state_hash
    from {{ contacts }} as contact_rows
    group by person_key
{%- endmacro %}

{#- Elsewhere (Spark): each row as text, a NULL as a marker of its own (a row hash that skipped NULLs would hash
    'a', NULL, 'b' and 'a', 'b', NULL alike), hashed with xxhash64 and summed as a decimal (no overflow). -#}
{% macro default__persons_state(contacts) -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(contacts) | map(attribute='name') | list -%}
    {%- else -%}
        {%- set names = ['contact_key', 'person_key'] -%}
    {%- endif -%}
    select
        person_key,
        count(*) as contacts,
        sum(cast(xxhash64(concat_ws('|'
        {%- for name in names %},
            coalesce(cast({{ adapter.quote(name) }} as string), '<null>')
        {%- endfor %}
        )) as decimal(38, 0))) as state_hash
    from {{ contacts }}
    group by person_key
{%- endmacro %}
