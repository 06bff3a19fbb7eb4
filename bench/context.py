"""Contact context as evidence (issue 19, linkage/context.py): what it adds to journeys, and what it costs.

    uv run python bench/context.py                            # 5,000 citizens x 42 days, seed 2
    uv run python bench/context.py --citizens 20000 --days 60 --seed 2 --work /tmp/ctx-bench
    uv run python bench/context.py --calibrate --seed 1 --citizens 20000 --days 60   # writes linkage/context_model.json

On one simulation (`joinedup simulate`, `joinedup ingest`), the real link step (joinedup.identity.link_step) runs
twice on the same lake, with context evidence off and on (settings `context.enabled`), then `dbt build` makes the
journeys, and joinedup.simulate.truth.score_journeys scores them against the simulator's truth: journeys found
against true journeys, pair precision and recall of "same journey", and switch recall. The context joins
themselves are scored too: how many, how many put the contact with its true person, and by calibrated
probability band, with the joins a lower threshold would have made (`--also`).

--calibrate fits the context model (m, u, p, temperature) on a simulation's truth with a stateless `link()` of
all its contacts and writes it as data; calibrate on one seed and measure on another.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEY = "benchmark-key-not-a-secret-0123456789"
REPO = Path(__file__).resolve().parents[1]


def simulate(work: Path, citizens: int, days: int, seed: int) -> tuple[Path, Path]:
    sim, lake = work / "sim", work / "lake"
    marker = work / "settings.json"
    want = {"citizens": citizens, "days": days, "seed": seed}
    if marker.exists() and json.loads(marker.read_text()) == want:
        return sim, lake
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    base = [sys.executable, "-m", "joinedup.cli"]
    subprocess.run([*base, "simulate", "--out", str(sim), "--citizens", str(citizens), "--days", str(days),
                    "--seed", str(seed), "--start", "2025-03-03"], check=True, capture_output=True)
    subprocess.run([*base, "ingest", "--exports", str(sim / "exports"), "--lake", str(lake)], check=False,
                   capture_output=True)
    marker.write_text(json.dumps(want))
    return sim, lake


def calibrate_on(sim: Path, lake: Path, out: Path, meta: dict) -> None:
    from linkage.context import calibrate, context_frame
    from linkage.eval.evaluate import simulated
    from linkage.pipeline import link
    from linkage.settings import load_settings

    reg, con, truth = simulated(sim, lake)
    links = link(reg, con)
    frame = context_frame(con, links, reg)
    person = frame["contact_id"].map(truth.drop_duplicates("contact_id").set_index("contact_id")["person_key"])
    model = calibrate(frame, person, load_settings().context)
    model.trained_on.update(meta)
    out.write_text(model.to_json() + "\n")
    print(f"calibrated on {len(frame):,} contacts: p={model.p_candidate}, temperature={model.temperature}, "
          f"{model.trained_on} -> {out}")


def run_mode(label: str, sim: Path, lake: Path, work: Path, enabled: bool, min_probability: float) -> dict:
    """The link step and dbt build on a copy of the lake; returns the scores."""
    from joinedup.dbt_cli import run_dbt
    from joinedup.identity.link_step import run_link_step
    from joinedup.inprocess import release_dbt_connection
    from joinedup.simulate.truth import score_journeys
    from linkage.settings import load_settings

    run = work / label
    shutil.rmtree(run, ignore_errors=True)
    (run / "lake").mkdir(parents=True)
    (run / "lake" / "raw").symlink_to(lake / "raw", target_is_directory=True)
    settings = load_settings(context={"enabled": enabled, "min_probability": min_probability})
    t0 = time.perf_counter()
    res = run_link_step(run / "lake", run / "identity", sim / "register" / "citizens.csv", KEY.encode(),
                        settings=settings)
    t_link = time.perf_counter() - t0
    os.environ["JOINEDUP_LAKE"] = str(run / "lake")
    os.environ["JOINEDUP_WAREHOUSE"] = str(run / "warehouse.duckdb")
    t0 = time.perf_counter()
    done = run_dbt(["build", "--quiet"], REPO / "dbt_project")
    release_dbt_connection()  # dbt-duckdb keeps its handle on the warehouse open in this process
    if not done.success:
        raise SystemExit(f"dbt build failed ({label}): {done.exception}")
    t_dbt = time.perf_counter() - t0
    marts = run / "marts.duckdb"  # the marts alone, as score_journeys reads the published file
    with duckdb.connect(str(marts)) as con:
        con.execute(f"attach '{run / 'warehouse.duckdb'}' as wh (read_only)")
        for t in ("fct_contacts", "fct_journeys", "fct_channel_switches"):
            schema = con.execute("select schema_name from duckdb_tables() where database_name = 'wh' "
                                 "and table_name = ?", [t]).fetchone()[0]
            con.execute(f"create table {t} as select * from wh.{schema}.{t}")
    score = score_journeys(marts, sim / "truth", KEY.encode())
    return {"label": label, "score": score, "link_s": t_link, "dbt_s": t_dbt, "result": res,
            "identity": run / "identity"}


def context_precision(identity: Path, sim: Path) -> pd.DataFrame:
    """Each context join with whether its contact and its anchor are truly one person."""
    truth = pd.read_csv(sim / "truth" / "contacts.csv", dtype=str, usecols=["contact_id", "person_key", "channel"])
    path = identity / "linkage" / "context_links.parquet"
    if not path.exists():
        return pd.DataFrame(columns=["contact_id", "probability", "correct", "channel"])
    joins = pd.read_parquet(path)
    tp = truth.set_index("contact_id")["person_key"]
    joins["correct"] = joins["contact_id"].map(tp) == joins["anchor_contact_id"].map(tp)
    joins["channel"] = joins["contact_id"].map(truth.set_index("contact_id")["channel"])
    return joins


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--citizens", type=int, default=5000)
    ap.add_argument("--days", type=int, default=42)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path("/tmp/joinedup-context-bench"))
    ap.add_argument("--min-probability", type=float, default=None,
                    help="the threshold to measure (default: linkage/settings.yml's context.min_probability)")
    ap.add_argument("--also", type=float, default=0.6, help="also show the joins this lower threshold would make")
    ap.add_argument("--calibrate", action="store_true", help="fit linkage/context_model.json on this simulation")
    args = ap.parse_args()
    os.environ.setdefault("JOINEDUP_PSEUDONYM_KEY", KEY)
    work = args.work.resolve()
    t0 = time.perf_counter()
    sim, lake = simulate(work, args.citizens, args.days, args.seed)
    print(f"simulation: {args.citizens:,} citizens x {args.days} days, seed {args.seed} "
          f"({time.perf_counter() - t0:.0f} s, reused when --work holds it)", flush=True)
    if args.calibrate:
        calibrate_on(sim, lake, REPO / "linkage" / "context_model.json",
                     {"seed": args.seed, "citizens": args.citizens, "days": args.days})
        return
    from linkage.settings import load_settings

    th = args.min_probability if args.min_probability is not None else load_settings().context.min_probability
    runs = [run_mode("without", sim, lake, work, False, th), run_mode("with", sim, lake, work, True, th),
            run_mode("lower", sim, lake, work, True, args.also)]
    print(f"\n{'':34}{'truth':>10}{'without':>12}{f'with (>={th:g})':>16}{f'with (>={args.also:g})':>16}")
    s = [r["score"] for r in runs]
    rows = [("journeys found", f"{s[0].truth_journeys:,}", *(f"{x.found_journeys:,}" for x in s)),
            ("journeys found / true", "1.000", *(f"{x.journey_count_ratio:.3f}" for x in s)),
            ("pair precision (same journey)", "", *(f"{x.pair_precision:.4f}" for x in s)),
            ("pair recall (same journey)", "", *(f"{x.pair_recall:.4f}" for x in s)),
            ("switch precision", "", *(f"{x.switch_precision:.4f}" for x in s)),
            ("switch recall", "", *(f"{x.switch_recall:.4f}" for x in s)),
            ("journeys that switch channel", f"{s[0].truth_switching_share:.1%}",
             *(f"{x.found_switching_share:.1%}" for x in s)),
            ("link step seconds", "", *(f"{r['link_s']:.1f}" for r in runs)),
            ("dbt build seconds", "", *(f"{r['dbt_s']:.1f}" for r in runs))]
    for name, truth, *vals in rows:
        print(f"{name:34}{truth:>10}{vals[0]:>12}{vals[1]:>16}{vals[2]:>16}")
    for r, t in ((runs[1], th), (runs[2], args.also)):
        j = context_precision(r["identity"], sim)
        print(f"\ncontext joins at >= {t:g}: {len(j)}, of which with the contact's true person "
              f"{int(j['correct'].sum()) if len(j) else 0} (precision "
              f"{j['correct'].mean() if len(j) else float('nan'):.3f}); contacts with a citizen by context: "
              f"{_citizens_by_context(r['identity'])}")
        if len(j):
            j["band"] = pd.cut(j["probability"], [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0])
            print(j.groupby("band", observed=True).agg(joins=("correct", "size"), correct=("correct", "mean"),
                                                       mean_probability=("probability", "mean")).to_string())
            print(j.groupby("channel").agg(joins=("correct", "size"), correct=("correct", "mean")).to_string())


def _citizens_by_context(identity: Path) -> int:
    """Context-joined contacts that carry a citizen in the identity store (must be 0)."""
    with duckdb.connect(str(identity / "identity.duckdb"), read_only=True) as con:
        return con.execute("select count(*) from contact_links l join context_links c using (contact_id) "
                           "where l.citizen_id is not null").fetchone()[0]


if __name__ == "__main__":
    main()
