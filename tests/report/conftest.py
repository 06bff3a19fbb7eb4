"""Report tests share the session's pipeline run and the headless browser fixture (tests/conftest.py)."""
