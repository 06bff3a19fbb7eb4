"""A user's mistake on the command line is one line naming what was wrong, with exit code 2, never a traceback.

Runs the installed `joinedup` console script in a subprocess, as a user would, not the typer app in-process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

JOINEDUP = str(Path(sys.executable).with_name("joinedup"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([JOINEDUP, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize(("args", "says"), [
    (["ingest", "--date", "03/03/2025"], ["--date", "'03/03/2025' is not a date", "YYYY-MM-DD"]),
    (["ingest", "--date", "2025-03-05..2025-03-01"], ["--date", "ends before it starts"]),
    (["ingest", "--date", "2025-03-01..03/03/2025"], ["--date", "'03/03/2025' is not a date"]),
    (["ingest", "--channel", "fax", "--date", "2025-03-01"], ["--channel", "fax", "channels.yml has phone"]),
    (["demo", "--start", "1/3/2025"], ["--start", "'1/3/2025' is not a date"]),
    (["simulate", "--out", "x", "--start", "2025-13-01"], ["--start", "'2025-13-01' is not a date"]),
    (["report", "--analytics", "missing.duckdb"], ["--analytics", "missing.duckdb", "does not exist"]),
    (["export-aggregates", "--analytics", "missing.duckdb", "--out", "o"],
     ["--analytics", "missing.duckdb", "does not exist"]),
    (["link", "--register", "nope.csv", "--contacts", "nope.csv", "--out", "o.csv"], ["--register", "nope.csv"]),
    (["ingest", "--no-such-option"], ["No such option", "--no-such-option"]),
    (["no-such-command"], ["No such command", "no-such-command"]),
])
def test_a_mistake_is_one_line_and_exit_code_2(args: list[str], says: list[str], tmp_path: Path) -> None:
    done = run(*args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in says:
        assert word in lines[0], lines[0]


def test_a_missing_exports_folder_and_an_empty_one_say_which(tmp_path: Path) -> None:
    missing = run("ingest", env={"JOINEDUP_EXPORTS": str(tmp_path / "nowhere"), "JOINEDUP_LAKE": str(tmp_path)})
    (tmp_path / "empty").mkdir()
    empty = run("ingest", env={"JOINEDUP_EXPORTS": str(tmp_path / "empty"), "JOINEDUP_LAKE": str(tmp_path)})
    assert (missing.returncode, empty.returncode) == (2, 2)
    assert "does not exist" in missing.stderr and str(tmp_path / "nowhere") in missing.stderr
    assert "no day folders" in empty.stderr and "does not exist" not in empty.stderr
    assert len(missing.stderr.strip().splitlines()) == len(empty.stderr.strip().splitlines()) == 1


def test_a_report_on_a_file_that_is_not_an_analytics_database(tmp_path: Path) -> None:
    bogus = tmp_path / "analytics.duckdb"
    bogus.write_text("not a database")
    done = run("report", "--analytics", str(bogus), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert str(bogus) in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_help_still_works() -> None:
    done = run()
    assert done.returncode == 0 and "ingest" in done.stdout


def test_export_aggregates_on_a_bogus_file_or_with_a_bad_threshold(tmp_path: Path) -> None:
    bogus = tmp_path / "analytics.duckdb"
    bogus.write_text("not a database")
    out = str(tmp_path / "out")
    done = [run("export-aggregates", "--analytics", str(bogus), "--out", out),
            run("export-aggregates", "--analytics", str(bogus), "--out", out, "--min-cell", "0"),
            run("report", "--analytics", str(bogus), "--out", out, env={"JOINEDUP_REPORT_MIN_CELL": "five"})]
    for d, says in zip(done, [str(bogus), "--min-cell", "JOINEDUP_REPORT_MIN_CELL"], strict=True):
        assert d.returncode == 2 and "Traceback" not in d.stderr, d.stderr
        assert len(d.stderr.strip().splitlines()) == 1 and says in d.stderr, d.stderr
