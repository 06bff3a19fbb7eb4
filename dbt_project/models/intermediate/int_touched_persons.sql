{#-
    The persons whose contacts changed since the last successful build: the person-keyed incremental models
    rebuild only these (and delete their old rows by these keys). A diff of each contact's state now
    (stg_linkage__contacts) against the state int_contacts__state kept after the last build, so it needs no
    bookkeeping from the link step: a new or late contact, a corrected attribute, a review decision and a
    rename (merge or split) all change the count or the summed row hashes of each person they touch, and a
    removed (erased) contact changes its person's. Both sides count: the new key (now, not before) and the old
    key (before, not now), so a renamed person's old rows are deleted too.

    The previous state is read with adapter.get_relation, not ref(): int_contacts__state is built after the
    facts (a ref would be a cycle), and what is wanted is the version the last run left. Without one (a new
    warehouse) every person is touched.
-#}
{%- set prior = none -%}
{%- if execute -%}
    {%- set found = adapter.get_relation(database=this.database, schema=this.schema,
                                         identifier='int_contacts__state') -%}
    {#- a state kept in another layout (per contact, before per-person states) counts as none: the build after
        that upgrade is a full one anyway (changed definitions) -#}
    {%- if found is not none and 'state_hash' in (adapter.get_columns_in_relation(found)
                                                  | map(attribute='name') | map('lower') | list) -%}
        {%- set prior = found -%}
    {%- endif -%}
{%- endif -%}
with

now_state as (
    {{ persons_state(ref('stg_linkage__contacts')) }}
),

{% if prior is none %}
changed as (
    select person_key from now_state
),
{% else %}
prior_state as (
    select person_key, contacts, state_hash from {{ prior }}
),

changed as (
    -- a person whose contacts were added, late, edited, moved in or out, or erased; or who is new or gone
    select coalesce(now_state.person_key, prior_state.person_key) as person_key
    from now_state
    full outer join prior_state on now_state.person_key = prior_state.person_key
    where now_state.state_hash is distinct from prior_state.state_hash
        or now_state.contacts is distinct from prior_state.contacts
),
{% endif %}

final as (
    select distinct person_key from changed
)

select * from final
