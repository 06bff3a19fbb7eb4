"""The simulator run the ingestion tests share (made once per session by the `simulated` fixture)."""

SIM_START, SIM_DAYS, SIM_CITIZENS, SIM_SEED = "2025-10-23", 6, 3000, 7  # spans the October clock change
