{#-
    Each person's state as of this build (person_key, contacts, state_hash): what the next run's
    int_touched_persons diffs against. Built after every person-keyed incremental model (the depends_on lines),
    so it only moves on once the facts hold those contacts: when a run fails before this, the next run's diff
    still holds this run's changes and rebuilds those persons again (self-healing). Build the project whole, as
    the journeys DAG does: building this model alone would let the next diff miss changes the facts never got.
-#}
-- depends_on: {{ ref('int_contacts__linked') }}
-- depends_on: {{ ref('fct_contacts') }}
-- depends_on: {{ ref('fct_journeys') }}
-- depends_on: {{ ref('fct_channel_switches') }}

{{ persons_state(ref('stg_linkage__contacts')) }}
