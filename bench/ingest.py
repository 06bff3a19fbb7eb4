"""Ingestion benchmark: rows per second and peak memory for a council year of simulator output.

    uv run python bench/ingest.py                      # ~1M contacts: 200k citizens x 365 days, 2 workers
    uv run python bench/ingest.py --citizens 20000 --days 60 --compare-days 7

The simulator output is generated once under --workdir and reused. The lake is rebuilt each run. Wall time
depends on what else runs on the machine, so CPU seconds (user + system, all processes) are reported too. Peak memory
is sampled over the whole process tree (psutil); --compare-days also ingests a short period, to show that
peak memory follows the size of a day's files, not the size of the year.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.memory import TreeMemory  # noqa: E402


def simulate(out: Path, citizens: int, days: int, start: str, seed: int) -> float:
    marker = out / "bench.json"
    wanted = {"citizens": citizens, "days": days, "start": start, "seed": seed}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return 0.0
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "joinedup.cli", "simulate", "--citizens", str(citizens), "--days",
                    str(days), "--start", start, "--seed", str(seed), "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    marker.write_text(json.dumps(wanted))
    return time.perf_counter() - t


def run(exports: Path, lake: Path, days: list[date], workers: int, batch_rows: int) -> dict:
    from joinedup.ingest.pipeline import ingest

    shutil.rmtree(lake, ignore_errors=True)
    with TreeMemory() as mem:
        t, cpu = time.perf_counter(), os.times()
        results = ingest(None, days, str(exports), lake, workers=workers, batch_rows=batch_rows)
        seconds, cpu_end = time.perf_counter() - t, os.times()
    cpu_seconds = sum(cpu_end[:4]) - sum(cpu[:4])  # this process and its (finished) workers, user + system
    rows = sum(r["rows_read"] for r in results)
    return {
        "days": len(days), "channel_days": len(results), "files": sum(r["files"] for r in results),
        "rows_read": rows, "rows_loaded": sum(r["rows_loaded"] for r in results),
        "rows_quarantined": sum(r["rows_quarantined"] for r in results),
        "seconds": round(seconds, 1), "rows_per_second": round(rows / seconds),
        "cpu_seconds": round(cpu_seconds, 1), "rows_per_cpu_second": round(rows / cpu_seconds),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "peak_rss_tree_mb": round(mem.peak("rss") / 2**20),
        "peak_rss_one_process_mb": round(mem.peak("largest_rss") / 2**20),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--citizens", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--start", default="2025-01-01")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-rows", type=int, default=200_000)
    ap.add_argument("--compare-days", type=int, default=0, help="also ingest only the first N days")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/joinedup-bench"))
    args = ap.parse_args()

    sim = args.workdir / "sim"
    sim_seconds = simulate(sim, args.citizens, args.days, args.start, args.seed)
    exports = sim / "exports"
    files = [p for p in exports.rglob("*") if p.is_file()]
    first = date.fromisoformat(args.start)
    report = {
        "simulated_seconds": round(sim_seconds, 1),
        "export_mb": round(sum(p.stat().st_size for p in files) / 2**20, 1),
        "largest_file_mb": round(max(p.stat().st_size for p in files) / 2**20, 2),
        "workers": args.workers, "batch_rows": args.batch_rows, "cpus": psutil.cpu_count(),
    }
    if args.compare_days:
        short = [first + timedelta(days=i) for i in range(args.compare_days)]
        report["short_period"] = run(exports, args.workdir / "lake-short", short, args.workers, args.batch_rows)
    year = [first + timedelta(days=i) for i in range(args.days)]
    report["full_period"] = run(exports, args.workdir / "lake", year, args.workers, args.batch_rows)
    print(json.dumps(report, indent=1))
    full = report["full_period"]
    print(f"\n{full['rows_read']:,} rows from {full['files']:,} files in {full['seconds']} s = "
          f"{full['rows_per_second']:,} rows/s on {args.workers} worker(s) ({full['cpu_seconds']} CPU-s, "
          f"{full['rows_per_cpu_second']:,} rows per CPU-s); peak RSS "
          f"{full['peak_rss_tree_mb']} MB (all processes), {full['peak_rss_one_process_mb']} MB (largest process); "
          f"exports {report['export_mb']} MB")


if __name__ == "__main__":
    main()
