"""Accuracy benchmark: precision / recall / F1 of contact-to-citizen links, ours and Splink 5's.

    uv run --group bench python bench/linkage_eval.py                      # FEBRL4 + a fresh simulation
    uv run --group bench python bench/linkage_eval.py --sim-dir S --lake L # an existing simulate + ingest
    uv run --group bench python bench/linkage_eval.py --no-simulate        # FEBRL4 only

The same as `joinedup link-eval`. Social-handle contacts are reported separately (all social
contacts, and those whose handle carries name evidence).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkage.eval.evaluate import run_all


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim-dir", type=Path)
    ap.add_argument("--lake", type=Path)
    ap.add_argument("--citizens", type=int, default=20000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--no-simulate", action="store_true")
    ap.add_argument("--no-febrl", action="store_true")
    ap.add_argument("--no-splink", action="store_true")
    ap.add_argument("--breakdown", action="store_true", help="errors by channel, evidence and reason")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for line in run_all(febrl=not args.no_febrl, sim_dir=args.sim_dir, lake=args.lake, citizens=args.citizens,
                        days=args.days, simulate=not args.no_simulate, splink=not args.no_splink,
                        breakdown=args.breakdown):
        print(line, flush=True)


if __name__ == "__main__":
    main()
