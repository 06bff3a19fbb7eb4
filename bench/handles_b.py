"""The linker on handlegen-B's social contacts (issue 19): precision and recall with Wilson 95% intervals.

    uv run python bench/handles_b.py --seeds dev                        # seeds 1-10, default setting
    uv run python bench/handles_b.py --seeds 1 --setting young_city     # one development seed
    uv run python bench/handles_b.py --quick                            # one seed, a 5,000-citizen register
    uv run python bench/handles_b.py --seeds heldout --setting older_town   # ONLY for the final report (design 6.1)

Per seed: `joinedup simulate` writes a register (the seed is also the register's) and `--days` of contacts on
every channel, `joinedup ingest` reads them, and handlegen-B (joinedup/simulate/handlegen_b.py) makes handle-only
social contacts for the register (70% of them people on the register, 30% outsiders, 35% of those hard
negatives). The social contacts take the place of the simulation's own social channel, and `joinedup link
--register --contacts --out` links all of them at once, the documented contract a user runs and the way
`joinedup link-eval` links the simulator's social contacts: among the other channels, with a model trained
without labels on that mix. `--alone` links the social contacts on their own instead (the model then trained on
them alone). The register's verified handles (`known_handles`, made by the simulator) are blanked, so that no
link comes from the other generator's handles. Only handlegen-B's contacts are scored. Scores count automatic
links only (decision 'matched'); a link from an outsider is a false positive.

Figures are printed per seed and pooled over the seeds, overall and by root family, digit kind, decoration,
case, display-name form, location form, age band, network and outsider kind, with the share of false positives
that are hard negatives. Seeds 101-105 are held out: no parameter of the linker may be set from them, and they
are not for error analysis before the final report (docs/handles.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from joinedup.simulate.handlegen_b import (  # noqa: E402
    DEV_SEEDS,
    HELDOUT_SEEDS,
    SETTINGS,
    generate,
    load_settings,
    wilson,
)
from linkage.compare import COMPARISONS  # noqa: E402
from linkage.eval.evaluate import evidence_subsets  # noqa: E402
from linkage.io import read_table, write_table  # noqa: E402

BREAKDOWNS = (
    ("root family", "root_family"), ("digit class", "digit_class"), ("digit kind", "digit_kind"),
    ("decorated", "decorated"), ("case", "case"), ("display-name form", "display_form"),
    ("location form", "location_form"), ("location names a previous home", "location_moved"),
    ("age band", "age_band"), ("network", "platform"),
    ("how many citizens on the register have the true given and family name", "name_in_register"),
    ("whether the contact's own evidence can identify its person (linkage.eval.evaluate.evidence_subsets)",
     "evidence"),
)


ORDER = {"age_band": tuple(load_settings()["age_bands"]), "root_family": ("R1", "R2", "R3", "R4", "R5"),
         "digit_class": ("true_year", "misleading_year", "other", "none"),
         "name_in_register": ("unique", "2-3 share it", "4+ share it", "outsider"),
         "evidence": ("identifiable", "not identifiable", "outsider")}


def parse_seeds(text: str) -> list[int]:
    if text == "dev":
        return list(DEV_SEEDS)
    if text == "heldout":
        return list(HELDOUT_SEEDS)
    return [int(s) for s in text.split(",") if s.strip()]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "joinedup.cli", *args], check=True, capture_output=True, text=True)


def other_channels(sim: Path, lake: Path) -> pd.DataFrame:
    """The simulation's contacts on every channel but social, through `joinedup ingest` (as linkage_eval reads them)."""
    subprocess.run([sys.executable, "-m", "joinedup.cli", "ingest", "--exports", str(sim / "exports"), "--lake",
                    str(lake)], check=False, capture_output=True)  # a quarantined row is not an error here
    from linkage.eval.evaluate import lake_contacts

    con = lake_contacts(lake)
    return con[con["channel"] != "social"].reset_index(drop=True)


def run_seed(seed: int, setting: str, citizens: int, contacts: int, days: int, alone: bool, work: Path,
             model: Path | None) -> pd.DataFrame:
    """One seed: register (and the other channels' contacts), handlegen-B's contacts, `joinedup link`; returns the
    truth table with the link decisions joined."""
    t0 = time.perf_counter()
    sim = work / "sim"
    _cli("simulate", "--out", str(sim), "--citizens", str(citizens), "--days", str(1 if alone else days),
         "--seed", str(seed))
    register = read_table(sim / "register" / "citizens.csv")
    register["known_handles"] = None  # the simulator's verified handles: not this generator's
    others = pd.DataFrame() if alone else other_channels(sim, work / "lake")
    t1 = time.perf_counter()
    hs = generate(register, seed, contacts, setting)
    t2 = time.perf_counter()
    reg_path, con_path, out_path = work / "register.csv", work / "contacts.parquet", work / "links.parquet"
    write_table(register, reg_path)
    linked = hs.contacts if alone else pd.concat([others, hs.contacts.astype(others.dtypes.to_dict())],
                                                 ignore_index=True)
    write_table(linked, con_path)
    write_table(hs.truth, work / "truth.csv")
    args = ["link", "--register", str(reg_path), "--contacts", str(con_path), "--out", str(out_path)]
    if model is not None:
        args += ["--model", str(model)]
    done = _cli(*args)
    t3 = time.perf_counter()
    links = read_table(out_path)[["contact_id", "citizen_id", "decision"]]
    df = hs.truth.merge(links.rename(columns={"citizen_id": "linked_to"}), on="contact_id", how="left")
    x = hs.contacts.loc[hs.contacts["platform"] == "x", "handle"].str.len()
    print(f"seed {seed}: register {len(register):,}; social contacts {len(hs.contacts):,} ({hs.accounts:,} accounts "
          f"issued) linked {'alone' if alone else f'with {len(others):,} contacts of the other channels'}; "
          f"settings {hs.settings_sha256[:12]}; X handle length mean {x.mean():.2f}; times: simulate"
          f"{'' if alone else ' + ingest'} {t1 - t0:.1f}s, generate {t2 - t1:.1f}s, link {t3 - t2:.1f}s", flush=True)
    print(f"  {done.stdout.strip()}", flush=True)
    names = register["given_name"].str.lower() + " " + register["family_name"].str.lower()
    count = df["citizen_id"].map(pd.Series(names.map(names.value_counts()).to_numpy(), index=register["citizen_id"]))
    df["name_in_register"] = pd.cut(count, [0, 1, 3, 10**9], labels=["unique", "2-3 share it", "4+ share it"])
    df["name_in_register"] = df["name_in_register"].astype(object).where(count.notna(), "outsider")
    ident = evidence_subsets(register, hs.contacts, hs.truth[["contact_id", "citizen_id"]]).identifiable
    df["evidence"] = df["contact_id"].map(pd.Series(ident.to_numpy(), index=hs.contacts["contact_id"].to_numpy()))
    df["evidence"] = df["evidence"].map({True: "identifiable", False: "not identifiable"}).where(
        df["citizen_id"].notna(), "outsider")
    df["seed"] = seed
    return df


def _label(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["is_true"] = df["citizen_id"].notna()
    df["linked"] = df["linked_to"].notna()
    df["correct"] = df["linked"] & (df["linked_to"] == df["citizen_id"])
    df["fp"] = df["linked"] & ~df["correct"]
    df["review"] = df["decision"] == "review"
    df["decorated"] = df["decorations"].fillna("").ne("")
    return df


def _interval(k: int, n: int) -> str:
    if n == 0:
        return "      -                 "
    lo, hi = wilson(k, n)
    return f"{k / n:7.4f} [{lo:.4f}, {hi:.4f}]"


def score_line(label: str, g: pd.DataFrame) -> str:
    """P = correct / links made; R = correct / contacts of register people (both with Wilson 95% intervals)."""
    true, linked, correct = int(g["is_true"].sum()), int(g["linked"].sum()), int(g["correct"].sum())
    return (f"  {label:<24} n={len(g):>6} true={true:>6} linked={linked:>6} review={int(g['review'].sum()):>5} "
            f"P={_interval(correct, linked)}  R={_interval(correct, true)}")


def report(df: pd.DataFrame, title: str) -> list[str]:
    df = _label(df)
    reg, out = df[df["is_true"]], df[~df["is_true"]]
    lines = [f"== {title}", score_line("all", df)]
    for name, col in BREAKDOWNS:
        lines.append(f"-- by {name} (recall over register people's contacts; P over links made to them and from "
                     f"outsiders of that group)")
        groups = dict(list(df.groupby(df[col].astype(str), sort=True)))
        first = [k for k in ORDER.get(col, ()) if k in groups]
        for key in first + [k for k in groups if k not in first]:
            lines.append(score_line(key, groups[key]))
    lines.append("-- outsiders (every link is a false positive): links made / outsider contacts")
    for key, g in out.groupby("person_kind", sort=True):
        to_anchor = int((g["linked"] & (g["linked_to"] == g["anchor_citizen"])).sum())
        lines.append(f"  {key:<24} n={len(g):>6} linked={int(g['linked'].sum()):>5} rate={_interval(int(g['linked'].sum()), len(g))}"
                     f"  to the register person it was made from: {to_anchor}")
    fp = df[df["fp"]]
    kinds = fp["person_kind"].value_counts()
    hard = int(kinds.get("hard_negative", 0))
    lines.append(f"-- false positives: {len(fp)} (register people linked to someone else {int(kinds.get('register', 0))}, "
                 f"hard negatives {hard}, namesakes by first name + year {int(kinds.get('namesake_year', 0))}, "
                 f"ordinary outsiders {int(kinds.get('ordinary', 0))})")
    lines.append(f"  share of false positives that are hard negatives: {_interval(hard, len(fp))}")
    lines.append(f"  contacts of register people never linked: {int((reg['is_true'] & ~reg['linked']).sum())}, "
                 f"of which in review {int((reg['review']).sum())}")
    return lines


def recall_at_precision(score: np.ndarray, correct: np.ndarray, counted: np.ndarray, floor: float = 0.97
                        ) -> tuple[int, float]:
    """Link the highest-scored contacts while precision stays >= floor: (links, recall over `counted`)."""
    order = np.argsort(-score, kind="stable")
    precision = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= floor)
    k = int(ok.max()) + 1 if len(ok) else 0
    chosen = np.zeros(len(score), dtype=bool)
    chosen[order[:k]] = True
    return k, float((chosen & correct)[counted].mean()) if counted.any() else float("nan")


def supervised_bound(work: Path, df: pd.DataFrame) -> str:
    """How far the linker's own evidence can go on this seed: every contact's best candidate and per-comparison
    weights (a re-link with the review threshold near 0, so each carries its candidate), then a gradient-boosted
    classifier trained on the truth with 5-fold cross-validation. Its recall at precision 0.97, beside the
    linker's probability ranked the same way, says whether a miss is the rules' fault or the evidence's: a
    classifier that has seen the answers cannot separate a citizen from an outsider of the same name either."""
    import json

    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_predict

    low = work / "links-every-candidate.parquet"
    env = {**os.environ, "JOINEDUP_LINK__THRESHOLDS__REVIEW": "0.0001"}
    subprocess.run([sys.executable, "-m", "joinedup.cli", "link", "--register", str(work / "register.csv"),
                    "--contacts", str(work / "contacts.parquet"), "--out", str(low)], check=True, env=env,
                   capture_output=True)
    links = read_table(low).set_index("contact_id")
    rows = links.reindex(df["contact_id"])
    doc = rows["explanation"].map(json.loads)
    cand = np.where(rows["decision"] == "review", doc.map(lambda e: e.get("candidate")), rows["citizen_id"])
    weights = pd.DataFrame({c.name: doc.map(lambda e, n=c.name: e.get(n, 0.0)) for c in COMPARISONS})
    weights["prior"] = doc.map(lambda e: e.get("prior", 0.0))
    weights["match_weight"] = rows["match_weight"].to_numpy()
    weights["match_probability"] = rows["match_probability"].to_numpy()
    correct = (pd.Series(cand, index=df.index) == df["citizen_id"]).to_numpy()
    has = pd.notna(cand)
    learned = np.zeros(len(df))
    learned[has] = cross_val_predict(HistGradientBoostingClassifier(max_iter=200, random_state=0),
                                     weights[has], correct[has], cv=5, method="predict_proba")[:, 1]
    ident = (df["evidence"] == "identifiable").to_numpy()
    out = []
    for name, score in (("the linker's probability", rows["match_probability"].to_numpy() * has),
                        ("a classifier trained on the truth", learned)):
        k, r = recall_at_precision(score, correct & has, ident)
        out.append(f"{name}: {k} links, recall of identifiable {r:.3f}")
    return "  at precision 0.97: " + "; ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="dev", help="dev (1-10), heldout (101-105) or a comma list")
    ap.add_argument("--setting", default="default", choices=SETTINGS)
    ap.add_argument("--quick", action="store_true", help="one seed (the first), a 5,000-citizen register")
    ap.add_argument("--citizens", type=int, default=20_000)
    ap.add_argument("--contacts", type=int, default=5_000, help="social contacts per seed (30%% outsiders)")
    ap.add_argument("--days", type=int, default=60, help="days of the other channels' simulated contacts")
    ap.add_argument("--alone", action="store_true",
                    help="link the social contacts on their own (the model trained on them alone), not among the "
                         "other channels' contacts")
    ap.add_argument("--model", type=Path, help="a linkage model JSON (else `joinedup link` trains one without labels)")
    ap.add_argument("--workdir", type=Path, help="keep each seed's register, contacts, truth and links here")
    ap.add_argument("--per-seed", action="store_true", help="also the full breakdown of every seed")
    ap.add_argument("--bound", action="store_true",
                    help="also what a classifier trained on the truth reaches at precision 0.97 (5-fold, per seed)")
    args = ap.parse_args()
    seeds = parse_seeds(args.seeds)
    citizens, contacts, days = args.citizens, args.contacts, args.days
    if args.quick:
        seeds, citizens, contacts, days = seeds[:1], 5_000, 1_500, 30
    if any(s in HELDOUT_SEEDS for s in seeds):
        print("NOTE: held-out seeds (design 6.1): for the final report only; set nothing from these figures.")
    t0 = time.perf_counter()
    frames = []
    with tempfile.TemporaryDirectory(prefix="handles-b-") as tmp:
        for seed in seeds:
            work = (args.workdir or Path(tmp)) / f"{args.setting}-seed{seed}"
            work.mkdir(parents=True, exist_ok=True)
            df = run_seed(seed, args.setting, citizens, contacts, days, args.alone, work, args.model)
            frames.append(df)
            if args.bound:
                print(supervised_bound(work, df), flush=True)
            if args.per_seed or len(seeds) == 1:
                continue
            print(score_line(f"seed {seed}", _label(df)), flush=True)
    pooled = pd.concat(frames, ignore_index=True)
    if args.per_seed and len(seeds) > 1:
        for seed, df in pooled.groupby("seed"):
            print("\n".join(report(df, f"seed {seed}, setting {args.setting}")))
    how = "linked alone" if args.alone else f"linked among {days} days of the other channels' contacts"
    title = f"setting {args.setting}, seeds {','.join(map(str, seeds))} pooled, {how}" if len(seeds) > 1 else \
        f"setting {args.setting}, seed {seeds[0]}, {how}"
    print("\n".join(report(pooled, title)))
    print(f"total {time.perf_counter() - t0:.0f}s for {len(seeds)} seed(s)")


if __name__ == "__main__":
    main()
