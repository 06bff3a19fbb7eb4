"""The privacy attack on a demo folder: every file outside the restricted zones (the pseudonymous lake, the
audit, the warehouse, the analytics file, the reports, dbt's target, the Airflow logs and metadata DB) searched
for the register's and the landed exports' PII and source contact ids, and for identifier hashes a dictionary
reverses (joinedup.leakcheck). Prints what it searched and what it found; exit code 1 if it found anything.

    make demo && uv run python bench/privacy_attack.py --out demo
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from joinedup.leakcheck import check_folders  # noqa: E402

RESTRICTED = ("simulated", "sim", "lake/raw", "lake/quarantine", "lake/_staging", "identity", ".secrets")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("demo"), help="the folder `joinedup demo --out` wrote")
    args = ap.parse_args()
    out = args.out.resolve()
    sim = next((out / s for s in ("simulated", "sim") if (out / s).exists()), out / "simulated")
    register, raw = sim / "register" / "citizens.csv", out / "lake" / "raw"
    if not register.exists() or not raw.exists():
        sys.exit(f"{out} holds no demo run (no simulated/register/citizens.csv or lake/raw): run make demo first")
    from plotly.offline import get_plotlyjs

    t0 = time.time()
    report = check_folders([(out, RESTRICTED)], register, raw, get_plotlyjs())
    print(f"restricted zones left out: {', '.join(RESTRICTED)}")
    print(report.summary())
    print(f"persons re-identified: {'some' if report.pii else 0}; hashes reversed: "
          f"{sum(sum(k.values()) for k in report.reversed_hashes.values())}  ({time.time() - t0:.0f} s)")
    sys.exit(0 if report.clean else 1)


if __name__ == "__main__":
    main()
