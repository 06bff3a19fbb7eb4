"""The simulator's documented behaviour, checked from its output (exports and truth), within tolerances."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.simulate import CHANNELS, Settings, simulate

LONDON = ZoneInfo("Europe/London")
SETTINGS = Settings()
FAILED_CALL = {"abandoned", "missed"}


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Path:
    """Six weeks across the October clock change."""
    out = tmp_path_factory.mktemp("sim")
    simulate(out, citizens=10_000, days=42, start=date(2025, 10, 6), seed=7)
    return out


@pytest.fixture(scope="module")
def truth(sim: Path) -> pd.DataFrame:
    c = pd.read_csv(sim / "truth" / "contacts.csv", dtype=str, keep_default_na=False)
    c["occurred_at"] = pd.to_datetime(c["occurred_at"], utc=True)
    c = c.sort_values(["journey_id", "occurred_at"], kind="stable")
    c["next_channel"] = c.groupby("journey_id")["channel"].shift(-1)
    c["next_at"] = c.groupby("journey_id")["occurred_at"].shift(-1)
    return c


def _read_native(sim: Path, channel: str) -> pd.DataFrame:
    frames = []
    for f in sorted((sim / "exports" / channel).glob("*/*")):
        if channel == "email":
            frames.append(pd.read_json(f, lines=True, dtype=False) if f.stat().st_size else pd.DataFrame())
        elif channel == "webchat":
            frames.append(pd.json_normalize(json.loads(f.read_text("utf-8"))["chats"]))
        else:
            enc = {"letter": "cp1252", "social": "utf-8-sig"}.get(channel, "utf-8")
            frames.append(pd.read_csv(f, dtype=str, keep_default_na=False, encoding=enc))
    return pd.concat(frames, ignore_index=True)


def test_same_seed_gives_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        simulate(tmp_path / name, citizens=150, days=4, start=date(2025, 3, 28), seed=seed)
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b")
    assert _tree_digest(tmp_path / "a") != _tree_digest(tmp_path / "c")


def test_every_channel_writes_a_file_for_every_day(sim: Path) -> None:
    for ch in CHANNELS:
        days = sorted(p.name for p in (sim / "exports" / ch).iterdir())
        assert len(days) == 42, ch
        assert days[0] == "2025-10-06" and days[-1] == "2025-11-16"
        assert all(len(list((sim / "exports" / ch / d).iterdir())) == 1 for d in days)


def test_every_native_format_parses_back_to_the_truth(sim: Path, truth: pd.DataFrame) -> None:
    counts = truth["channel"].value_counts()
    for ch in CHANNELS:
        assert len(_read_native(sim, ch)) == counts.get(ch, 0), ch
    # encodings are those the data contract names
    social_file = next((sim / "exports" / "social").glob("*/*.csv"))
    assert social_file.read_bytes().startswith(b"\xef\xbb\xbf")
    letter_bytes = b"".join(f.read_bytes() for f in (sim / "exports" / "letter").glob("*/*.csv"))
    with pytest.raises(UnicodeDecodeError):
        letter_bytes.decode("utf-8")  # '£' and accented names in cp1252


def test_local_time_exports_convert_to_the_true_utc_instant_across_the_clock_change(
    sim: Path, truth: pd.DataFrame
) -> None:
    cdr = _read_native(sim, "phone")
    true_at = truth.set_index("contact_id")["occurred_at"]
    mismatches = 0
    for call_id, start in zip(cdr["CallID"], cdr["StartTime"]):
        wall = datetime.strptime(start, "%d/%m/%Y %H:%M:%S")
        candidates = {wall.replace(tzinfo=LONDON, fold=f).astimezone(ZoneInfo("UTC")) for f in (0, 1)}
        mismatches += true_at[f"telephony-cdr:{call_id}"].to_pydatetime() not in candidates
    assert mismatches == 0
    # BST before 26 October, GMT after: the same wall-clock hour is an hour apart in UTC
    phone = truth[truth["channel"] == "phone"]
    before = phone[phone["occurred_at"] < pd.Timestamp("2025-10-26T00:00Z")]
    local_hours = before["occurred_at"].dt.tz_convert("Europe/London").dt.hour
    assert ((local_hours - before["occurred_at"].dt.hour) % 24 == 1).all()


def test_register_and_population_shares(sim: Path) -> None:
    reg = pd.read_csv(sim / "register" / "citizens.csv", dtype=str, keep_default_na=False)
    persons = pd.read_csv(sim / "truth" / "persons.csv")
    assert len(reg) == 10_000 and reg["citizen_id"].is_unique
    assert persons["in_register"].sum() == 10_000
    assert abs((1 - persons["in_register"].mean()) - SETTINGS.share_not_in_register) < 0.01
    # about 1 in 4 people use social media for service
    assert abs(persons["uses_social"].mean() - SETTINGS.share_social_users) < 0.03
    # households share phones (landlines) and some share an email address
    assert reg.loc[reg["phone"] != "", "phone"].duplicated().sum() > 20
    assert reg.loc[reg["email"] != "", "email"].duplicated().sum() > 5


def test_callers_try_at_most_twice_and_a_fifth_try_only_once(truth: pd.DataFrame) -> None:
    first = truth.groupby("journey_id").head(1)
    failed_first_call = first[(first["channel"] == "phone") & first["outcome"].isin(FAILED_CALL)]
    assert len(failed_first_call) > 200
    retried = (failed_first_call["next_channel"] == "phone").mean()
    assert abs(retried - (1 - SETTINGS.phone_share_single_try)) < 0.06
    # never three failed calls in a row
    fails = (truth["channel"] == "phone") & truth["outcome"].isin(FAILED_CALL)
    run = fails.astype(int).groupby((~fails).cumsum().astype(str) + truth["journey_id"]).cumsum()
    assert run.max() <= 2


def test_unanswered_social_posts_are_followed_by_a_call_or_email_within_hours(truth: pd.DataFrame) -> None:
    unanswered = truth[(truth["channel"] == "social") & (truth["outcome"] == "no_response")]
    assert len(unanswered) > 30
    followed = unanswered[unanswered["next_channel"].notna()]
    assert followed["next_channel"].isin(["phone", "email"]).mean() > 0.9
    assert len(followed) / len(unanswered) > 0.6
    hours = (followed["next_at"] - followed["occurred_at"]).dt.total_seconds() / 3600
    assert hours.median() < 12


def test_failed_web_self_service_leads_to_a_call(truth: pd.DataFrame) -> None:
    failed = truth[(truth["channel"] == "web_form") & (truth["outcome"] == "failed")]
    assert len(failed) > 50
    assert (failed["next_channel"] == "phone").mean() > 0.5
    assert abs(len(failed) / (truth["channel"] == "web_form").sum() - SETTINGS.web_failure_rate) < 0.05


def test_social_reply_times_follow_office_hours_staffing(sim: Path) -> None:
    social = _read_native(sim, "social")
    received = pd.to_datetime(social["Received"])
    reply = pd.to_datetime(social["First Reply"].replace("", None))
    in_hours = (received.dt.weekday < 5) & (received.dt.hour * 60 + received.dt.minute).between(8.5 * 60, 17 * 60 - 1)
    minutes = (reply - received).dt.total_seconds() / 60
    assert minutes[in_hours].median() < 60
    assert minutes[~in_hours].median() > 6 * 60
    unanswered = social["Status"] == "Unanswered"
    assert unanswered[~in_hours].mean() > unanswered[in_hours].mean() + 0.15
    assert set(social["Network"]) == {"Twitter/X", "Facebook"}


def test_repeat_contacts_about_unresolved_requests_quote_the_case(truth: pd.DataFrame, sim: Path) -> None:
    journeys = pd.read_csv(sim / "truth" / "journeys.csv")
    assert 0.2 < (journeys["n_contacts"] > 1).mean() < 0.6
    assert 0.15 < (journeys["n_switches"] > 0).mean() < 0.5
    cdr = _read_native(sim, "phone")
    assert (cdr["CaseRef"] != "").mean() > 0.2


def test_channel_mix_is_a_uk_council_with_text_messaging_popular(truth: pd.DataFrame) -> None:
    share = truth["channel"].value_counts(normalize=True)
    assert share.idxmax() == "phone"
    assert share["sms"] > 0.08
    assert set(share.index) == set(CHANNELS)


def test_identity_noise_is_present(sim: Path) -> None:
    cdr = _read_native(sim, "phone")
    withheld = cdr["CLI"].isin(["Withheld", "Anonymous", "Unavailable"]).mean()
    assert abs(withheld - SETTINGS.share_withheld_cli) < 0.03
    social = _read_native(sim, "social")
    handles = social["From Handle"].str.lstrip("@")
    assert handles.str.contains(r"^[A-Z][a-z]+[A-Z][a-z]{2}\d{2}$").any()  # BettyBoo52 style
    assert (~handles.str.contains(r"\d")).any()
    # a network gives each handle to one account; the register notes a verified handle with its network
    accounts = social.drop_duplicates(["Network", "From Handle", "From Name"])
    assert not accounts.duplicated(["Network", "From Handle"]).any()
    reg = pd.read_csv(sim / "register" / "citizens.csv", dtype=str, keep_default_na=False)
    known = reg.loc[reg["known_handles"] != "", "known_handles"]
    assert len(known) and known.str.match(r"^(x|facebook):").all()
    mail = _read_native(sim, "email")
    # some people write from an address the register does not hold (changed email, visitors)
    assert (~mail["from_address"].str.lower().isin(set(reg["email"]))).mean() > 0.05


def test_cli_simulate_prints_a_summary(tmp_path: Path) -> None:
    runner = CliRunner()
    assert "--citizens" in runner.invoke(app, ["simulate", "--help"]).output
    result = runner.invoke(
        app, ["simulate", "--citizens", "120", "--days", "3", "--start", "2025-02-03", "--seed", "1",
              "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "citizen in the register" in result.output
    summary = json.loads((tmp_path / "truth" / "summary.json").read_text())
    assert summary["contacts"] == sum(summary["contacts_by_channel"].values()) > 0
    bad = runner.invoke(app, ["simulate", "--start", "2025-13-01", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_an_address_or_a_handle_belongs_to_one_person_or_household() -> None:
    """A register may hold an old e-mail for someone, but an address is one mailbox: it is never another
    household's current one (namesakes used to get each other's), and a handle is one account per network."""
    from joinedup.simulate.population import build_population

    people = build_population(SETTINGS, citizens=20_000, seed=11)
    writes_from = {p.email: p.household for p in people}
    held = [(p.reg_email, p.household) for p in people if p.reg_email]
    assert not [e for e, h in held if e in writes_from and writes_from[e] != h]
    accounts = [(p.platform, p.handle.lower()) for p in people if p.handle]
    assert len(accounts) == len(set(accounts))
