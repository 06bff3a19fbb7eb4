"""dbt invocations outside cosmos (parse, docs, tests), always with the vars channels.yml gives.

The channel list reaches dbt only as vars (`joinedup.channels.dbt_vars`): cosmos passes them through
`ProjectConfig(dbt_vars=...)`, and every other dbt command goes through `dbt_command` here, so none can run
with a channel list other than the configured one (and none silently without: dbt_project.yml has no default).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from joinedup.channels import dbt_vars_arg

DOCS_STAMP = ".joinedup-stamp"  # beside the page: the project_stamp it was generated from


def dbt_command(args: Sequence[str], project: Path) -> list[str]:
    """`args` (e.g. ["parse"]) for the project at `project`, its profiles.yml and the channels' vars."""
    return [*args, "--project-dir", str(project), "--profiles-dir", str(project), *dbt_vars_arg()]


def run_dbt(args: Sequence[str], project: Path) -> Any:
    """Run dbt in this process (dbtRunner); returns its dbtRunnerResult (success, result, exception)."""
    from dbt.cli.main import dbtRunner

    return dbtRunner().invoke(dbt_command(args, project))


def generate_docs(project: Path, target_dir: Path, target: str | None = None) -> Path:
    """`dbt docs generate --static` into target_dir (one self-contained HTML file); returns target_dir.

    It reads the warehouse's catalog, so under Airflow it runs in the `duckdb` pool like every warehouse task,
    and the handle dbt-duckdb keeps is released before and after (see joinedup.inprocess). It is skipped when
    the page there was generated from the same project, environment and target (dbt_definitions.project_stamp):
    the page shows names, types and descriptions, which only those change.
    """
    from joinedup.dbt_definitions import project_stamp, record_stamp, stamp_is_current
    from joinedup.publish.warehouse import before_open

    stamp, stamp_file = project_stamp(project, target), target_dir / DOCS_STAMP
    if (target_dir / "static_index.html").exists() and stamp_is_current(stamp_file, stamp):
        return target_dir  # nothing the page shows has changed since it was generated
    stamp_file.unlink(missing_ok=True)  # a run killed while rewriting the page must not leave it vouched for
    before_open()
    # the build's dbt target (paths.dbt_target), or the profile's default (`local`)
    res = run_dbt(["docs", "generate", "--static", "--quiet", "--target-path", str(target_dir),
                   *(["--target", target] if target else [])], project)
    before_open()  # the docs run opened the warehouse in this process
    if not res.success or not (target_dir / "static_index.html").exists():
        raise RuntimeError(f"dbt docs generate failed in {project}: {res.exception}")
    record_stamp(stamp_file, stamp)
    return target_dir
