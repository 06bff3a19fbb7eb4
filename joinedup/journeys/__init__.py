"""From landed contacts to published journey tables: link, build (dbt), gate (GX), publish."""
