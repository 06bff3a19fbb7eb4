"""Identity: the pipeline's link step, pseudonyms, and the restricted identity store.

linkage/ is the library that decides who is who; this package runs it over the lake and keeps its results.
"""
