{#-
    The persons whose contacts changed since the last successful build: the person-keyed incremental models
    rebuild only these (and delete their old rows by these keys). A diff of each contact's state now
    (stg_linkage__contacts) against the state int_contacts__state kept after the last build, so it needs no
    bookkeeping from the link step: a new or late contact, a corrected attribute, a review decision and a
    rename (merge or split) all change a contact's (person_key, row_hash), and a removed (erased) contact
    disappears. Both sides count: the new key (now, not before) and the old key (before, not now), so a
    renamed person's old rows are deleted too.

    The previous state is read with adapter.get_relation, not ref(): int_contacts__state is built after the
    facts (a ref would be a cycle), and what is wanted is the version the last run left. Without one (a new
    warehouse) every person is touched.
-#}
{%- set prior = none -%}
{%- if execute -%}
    {%- set prior = adapter.get_relation(database=this.database, schema=this.schema,
                                         identifier='int_contacts__state') -%}
{%- endif -%}
with

now_state as (
    {{ contacts_state(ref('stg_linkage__contacts')) }}
),

{% if prior is none %}
changed as (
    select person_key from now_state
),
{% else %}
prior_state as (
    select contact_key, person_key, row_hash from {{ prior }}
),

changed as (
    -- new, late, edited or moved contacts: their person now
    select person_key from (select * from now_state except select * from prior_state) as added
    union all
    -- moved or removed contacts: their person before
    select person_key from (select * from prior_state except select * from now_state) as removed
),
{% endif %}

final as (
    select distinct person_key from changed
)

select * from final
