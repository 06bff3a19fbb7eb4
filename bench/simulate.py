"""Simulate a council year and print wall time, peak memory and row counts.

    uv run python bench/simulate.py                       # 500,000 citizens, 365 days
    uv run python bench/simulate.py --citizens 50000      # a quicker look
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from joinedup.simulate import simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--citizens", type=int, default=500_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--start", default="2025-01-01")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, help="keep the output here (default: a temporary folder, removed)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="joinedup-bench-"))
    t0 = time.perf_counter()
    s = simulate(out, args.citizens, args.days, date.fromisoformat(args.start), args.seed)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    print(f"citizens           {s.citizens:>12,}")
    print(f"persons            {s.persons:>12,}")
    print(f"days               {s.days:>12,}")
    print(f"contacts           {s.contacts:>12,}")
    for ch, n in sorted(s.contacts_by_channel.items(), key=lambda kv: -kv[1]):
        print(f"  {ch:<16} {n:>12,}")
    print(f"journeys           {s.journeys:>12,}")
    print(f"output size        {size_mb:>12,.0f} MB")
    print(f"wall time          {wall:>12,.1f} s")
    print(f"peak memory (RSS)  {peak_mb:>12,.0f} MB")
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
