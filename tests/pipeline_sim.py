"""The small simulation the end-to-end runs share (tests/conftest.py's `pipeline`, tests/spark's `linked_lake`):
four weeks from a Monday, across the spring clock change (30 March 2025), so local times, dates and hours are
checked on both sides of it."""

from datetime import date

PIPELINE_START, PIPELINE_DAYS, PIPELINE_CITIZENS, PIPELINE_SEED = date(2025, 3, 3), 28, 3000, 11
PIPELINE_KEY = "test-pseudonym-key-0123456789abcdef"
