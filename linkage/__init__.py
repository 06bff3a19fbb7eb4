"""Identity resolution: from channel contacts to known or pseudonymous persons.

Entry point: `linkage.pipeline.link(register, contacts, model=None, state_dir=None)` returns one
row per contact (contact_id, person_id, citizen_id, match_probability, match_weight, decision,
explanation). Modules, in the order data flows through them:

standardise (names, phones, emails, postcodes, dates, handles, mentions) -> blocking -> compare
(comparators) -> model (Fellegi-Sunter, EM, term frequencies) -> edges (merge protection) ->
match (batches) -> cluster (persons) -> state / review (the identity store, clerical review).
"""
