"""Scale benchmark: link N contacts against an M-citizen register on this machine.

    uv run python bench/linkage_scale.py                 # 1,000,000 contacts x 500,000 citizens
    uv run python bench/linkage_scale.py --contacts 100000 --citizens 50000

Data is synthetic (linkage.eval.synthetic, seconds to generate) and written to Parquet first, so
the timed part is exactly `joinedup link`'s work: read, standardise, train, block, compare,
score, cluster, write. Prints wall time, pairs compared, peak RSS (this process and children),
and precision/recall against the generator's truth.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.memory import TreeMemory
from linkage.eval.evaluate import score_links
from linkage.eval.synthetic import make_contacts, make_register
from linkage.io import read_table, write_table
from linkage.pipeline import LinkStats, link


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--citizens", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="linkscale-") as tmp:
        t = time.perf_counter()
        reg = make_register(args.citizens, seed=args.seed)
        con, truth = make_contacts(reg, args.contacts, seed=args.seed + 1)
        reg_path, con_path, out_path = Path(tmp, "register.parquet"), Path(tmp, "contacts.parquet"), Path(tmp, "out.parquet")
        write_table(reg.drop(columns=["_handle"]), reg_path)
        write_table(con, con_path)
        del reg, con
        print(f"generated {args.citizens:,} citizens and {args.contacts:,} contacts in {time.perf_counter() - t:.1f}s")

        stats = LinkStats()
        with TreeMemory() as mem:
            t0 = time.perf_counter()
            result = link(read_table(reg_path), read_table(con_path), stats=stats)
            write_table(result, out_path)
            wall = time.perf_counter() - t0
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        child_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print(f"link wall time     {wall:8.1f} s   (target < 300 s)")
        print("  stages           " + ", ".join(f"{k} {v:.1f}s" for k, v in stats.seconds.items()))
        print(f"pairs compared     {stats.pairs:>12,}")
        print(f"peak memory (PSS)  {mem.peak('pss') / 2**30:8.2f} GiB (target < 8 GiB), parent + workers, shared pages split")
        print(f"peak RSS (summed)  {mem.peak('rss') / 2**30:8.2f} GiB, parent + workers, shared pages counted per process")
        print(f"ru_maxrss          parent {maxrss / 2**30:.2f} GiB, largest worker {child_maxrss / 2**30:.2f} GiB")
        print(f"decisions          {result['decision'].value_counts().to_dict()}")
        print(score_links(result, truth).line("accuracy vs truth"))


if __name__ == "__main__":
    main()
