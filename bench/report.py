"""Build the service designers' report from an analytics file and print build time, size and peak memory.

    uv run python bench/report.py demo/analytics/joinedup_analytics.duckdb
    uv run python bench/report.py /srv/year/analytics/joinedup_analytics.duckdb --repeat 3 --service council_tax

Targets (issues 6 and 17): a council year builds in under 60 s and the page is under 10 MB. Report v2 embeds every
view (services x periods), so its time is mostly per view (the headline estimates and the views' suppression).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from joinedup.report.build import build_report
from joinedup.report.scope import Scope

TARGET_SECONDS, TARGET_BYTES = 60, 10 * 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("analytics", type=Path, nargs="?", default=Path("demo/analytics/joinedup_analytics.duckdb"))
    ap.add_argument("--out", type=Path, help="keep the report here (default: a temporary folder, removed)")
    ap.add_argument("--repeat", type=int, default=1, help="builds to time; the fastest is reported")
    ap.add_argument("--service")
    ap.add_argument("--from", dest="start", type=date.fromisoformat)
    ap.add_argument("--to", dest="end", type=date.fromisoformat)
    args = ap.parse_args()
    with duckdb.connect(str(args.analytics), read_only=True) as con:
        (contacts, first, last), (journeys,), (switches,) = (con.execute(q).fetchone() for q in (
            "select count(*), min(occurred_local_date), max(occurred_local_date) from fct_contacts",
            "select count(*) from fct_journeys", "select count(*) from fct_channel_switches"))
    out = args.out or Path(tempfile.mkdtemp(prefix="joinedup-bench-report-"))
    scope = Scope(args.service, args.start, args.end)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        path = build_report(args.analytics, out, scope=scope)
        times.append(time.perf_counter() - t0)
    size = path.stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"analytics file     {args.analytics} ({args.analytics.stat().st_size / 2**20:,.1f} MB)")
    print(f"period             {first} to {last}")
    print(f"contacts           {contacts:>12,}")
    print(f"journeys           {journeys:>12,}")
    print(f"switches           {switches:>12,}")
    print(f"scope              {scope}")
    print(f"build seconds      {min(times):>12.2f}   (target < {TARGET_SECONDS} s: "
          f"{'ok' if min(times) < TARGET_SECONDS else 'MISSED'}; {args.repeat} run(s))")
    print(f"html size          {size / 2**20:>12.2f} MB (target < {TARGET_BYTES / 2**20:.0f} MB: "
          f"{'ok' if size < TARGET_BYTES else 'MISSED'})")
    print(f"peak RSS           {peak_mb:>12,.0f} MB")
    if args.out:
        print(f"report             {path}")
    else:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
