"""dbt's data dictionary for the report folder: `dbt docs generate --static` (one self-contained HTML file).

It reads the warehouse's catalog, so under Airflow it runs in the `duckdb` pool like every warehouse task.
"""

from __future__ import annotations

from pathlib import Path

from joinedup.publish.warehouse import before_open


def generate_dbt_docs(project_dir: Path, target_dir: Path) -> Path:
    """Write target_dir/static_index.html and return target_dir."""
    from dbt.cli.main import dbtRunner

    before_open()
    res = dbtRunner().invoke(["docs", "generate", "--static", "--quiet", "--project-dir", str(project_dir),
                              "--profiles-dir", str(project_dir), "--target-path", str(target_dir)])
    before_open()  # the docs run opened the warehouse in this process
    if not res.success or not (target_dir / "static_index.html").exists():
        raise RuntimeError(f"dbt docs generate failed: {res.exception}")
    return target_dir
