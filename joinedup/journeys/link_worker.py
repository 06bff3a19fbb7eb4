"""`python -m joinedup.journeys.link_worker <job.json>`: the linking process the link step starts.

The linker forks worker processes. Forking an Airflow task process (with DuckDB, Arrow and Airflow threads
about) can copy a lock some thread holds and hang a worker, as a council-year run once did; so linking runs
in a fresh interpreter whose only threads are its own. The job file names the inputs and outputs (all in the
restricted identity store); the stats come back in `<out>.stats.json`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path


def main(job_file: str) -> None:
    from joinedup.journeys.identity import link_new_contacts

    job = json.loads(Path(job_file).read_text())
    stats = link_new_contacts(Path(job["register"]), Path(job["contacts"]), Path(job["state_dir"]),
                              Path(job["out"]), int(job["chunk_size"]))
    Path(job["out"] + ".stats.json").write_text(json.dumps(asdict(stats)))


if __name__ == "__main__":
    main(sys.argv[1])
