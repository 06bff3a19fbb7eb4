"""Evaluation of the linker: synthetic registers and contacts, scores against truth, FEBRL4 and Splink runs.

Not used by the pipeline; the benchmarks and tests import it.
"""
