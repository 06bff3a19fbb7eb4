"""joinedup/channels.yml is the one channel list: every other place that names channels either derives them from it
(dbt vars, the suites' placeholders) or is checked against it here (the seeds, the simulator's source systems,
the linkage evaluation's synthetic channels). The last test scans the repository for any new hard-coded list.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml

from joinedup.channels import channel_names, dbt_vars, load_channels
from joinedup.quality.suites import CHANNELS_PLACEHOLDER, fill_placeholders, suite_doc

REPO = Path(__file__).resolve().parents[1]
DBT = REPO / "dbt_project"
CONFIGURED = channel_names()


@pytest.fixture(autouse=True)
def packaged_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the packaged files, whatever the environment points at."""
    monkeypatch.delenv("JOINEDUP_CHANNELS", raising=False)
    monkeypatch.delenv("JOINEDUP_EXPECTATIONS", raising=False)


def test_dbt_gets_the_channels_as_vars_and_its_project_has_no_list_of_its_own() -> None:
    assert list(dbt_vars()) == ["channels", "opening_hours"] and dbt_vars()["channels"] == CONFIGURED
    project = yaml.safe_load((DBT / "dbt_project.yml").read_text(encoding="utf-8"))
    assert "channels" not in project.get("vars", {}), "dbt_project.yml must not default the channel list"


def _seed_channels(name: str) -> list[tuple[int, str]]:
    with (DBT / "seeds" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return [(i, row["channel"]) for i, row in enumerate(csv.DictReader(f), start=2)]


@pytest.mark.parametrize("seed", ["channel_costs", "sla_targets"])
def test_every_configured_channel_has_a_seed_row_and_no_seed_row_is_for_another(seed: str) -> None:
    rows = _seed_channels(seed)
    missing = [c for c in CONFIGURED if c not in {ch for _, ch in rows}]
    assert not missing, f"dbt_project/seeds/{seed}.csv: no row for configured channel(s) {missing}"
    stray = [f"line {i}: channel={ch!r}" for i, ch in rows if ch not in CONFIGURED]
    assert not stray, f"dbt_project/seeds/{seed}.csv: rows for channels not in channels.yml: {stray}"


def test_every_channel_has_its_ingest_suite_and_every_channel_set_is_the_placeholder() -> None:
    for name in CONFIGURED:
        sets = [e["kwargs"]["value_set"] for e in suite_doc(name)["expectations"]
                if e["kwargs"].get("column") == "channel" and "value_set" in e["kwargs"]]
        assert sets == [[name]], f"expectations/{name}.json: channel value_set {sets}, expected [[{name!r}]]"
    for path in sorted((REPO / "expectations").rglob("*.json")):
        if path.stem not in CONFIGURED and path.parent.name != "marts" and path.stem != "contact":
            pytest.fail(f"{path.relative_to(REPO)}: an ingest suite for a channel not in channels.yml")
        for i, e in enumerate(json.loads(path.read_text(encoding="utf-8"))["expectations"]):
            value_set = e["kwargs"].get("value_set")
            if isinstance(value_set, list) and len(set(value_set) & set(CONFIGURED)) > 1:
                pytest.fail(f"{path.relative_to(REPO)}: expectations[{i}].kwargs.value_set lists channels; "
                            f'use {{"{CHANNELS_PLACEHOLDER}": "joinedup/channels.yml"}}')


def test_the_suite_placeholder_becomes_the_configured_channels_and_a_typo_is_refused() -> None:
    doc = suite_doc("marts/fct_contacts")
    channel_sets = [e["kwargs"]["value_set"] for e in doc["expectations"] if e["kwargs"].get("column") == "channel"
                    and "value_set" in e["kwargs"]]
    assert channel_sets == [CONFIGURED]
    with pytest.raises(ValueError, match=r"suite\.json: expectations\[0\]: kwargs: value_set: unknown placeholder"):
        fill_placeholders({"expectations": [{"kwargs": {"value_set": {"$chanels": "x"}}}]}, CONFIGURED, "suite.json")


def test_the_simulator_writes_exactly_the_configured_channels_as_configured() -> None:
    """The simulator stands in for the council's real source systems, so it does not read channels.yml (a new
    channel needs simulated behaviour, not just a name); it is checked against it instead."""
    from joinedup.simulate.exports import CSV_HEADERS, SOURCE_SYSTEM
    from joinedup.simulate.settings import CHANNELS, Settings

    assert list(CHANNELS) == CONFIGURED, "joinedup/simulate/settings.py CHANNELS differs from channels.yml"
    configured = load_channels()
    for name in CHANNELS:
        assert SOURCE_SYSTEM[name] == configured[name].source_system, f"simulate/exports.py SOURCE_SYSTEM[{name!r}]"
        if name in CSV_HEADERS:
            assert tuple(CSV_HEADERS[name].split(",")) == configured[name].columns, \
                f"simulate/exports.py CSV_HEADERS[{name!r}] differs from channels.yml columns"
    settings = Settings()
    for field_name, value in vars(settings).items():
        if isinstance(value, dict) and set(value) & set(CONFIGURED) and len(set(value) & set(CONFIGURED)) > 1:
            assert set(value) <= set(CONFIGURED), f"simulate/settings.py Settings.{field_name}: {sorted(value)}"


def test_the_linkage_evaluation_simulates_the_configured_channels() -> None:
    """linkage/ is a library that knows nothing of joinedup's config; its synthetic benchmark data uses the
    same channel names, checked here."""
    from linkage.eval.synthetic import CHANNEL_P, CHANNELS

    assert sorted(CHANNELS) == sorted(CONFIGURED), "linkage/eval/synthetic.py CHANNELS differs from channels.yml"
    assert len(CHANNEL_P) == len(CHANNELS)


ALLOWED = {  # files that may spell out the channels, each checked against channels.yml above
    "joinedup/channels.yml", "joinedup/simulate/settings.py", "linkage/eval/synthetic.py",
}
SCANNED = {".py", ".yml", ".yaml", ".json", ".sql", ".csv", ".toml", ".cfg", ".ini"}


def _hard_coded_lists(text: str) -> list[str]:
    """Runs naming most of the channels (more than half, distinct) separated only by quotes, commas, brackets and
    white space: a channel list. Smaller sets are behaviour (the simulator's "callers switch to phone, letter or
    face to face"), not a copy of the list."""
    name = "|".join(sorted(map(re.escape, CONFIGURED), key=len, reverse=True))
    run = rf"(?<![\w-])(?:{name})(?:[\s,'\"\[\]()]+(?:{name})(?![\w-]))+"
    hits = [m.group(0) for m in re.finditer(run, text)]
    return [h for h in hits if len(set(re.findall(rf"(?<![\w-])(?:{name})(?![\w-])", h))) > len(CONFIGURED) / 2]


SKIPPED_DIRS = {"tests", "target", "logs", "demo", "data", "dbt_packages", "__pycache__", "node_modules"}


def _skipped(rel: str) -> bool:
    """Tests (which may spell channels out on purpose), build output, local data and hidden folders (.venv)."""
    return any(part.startswith(".") or part in SKIPPED_DIRS for part in rel.split("/")[:-1])


def test_no_other_file_hard_codes_the_channel_list() -> None:
    assert _hard_coded_lists(f"values: [{', '.join(CONFIGURED)}]") == [", ".join(CONFIGURED)]
    assert not _hard_coded_lists('("phone", "letter", "face_to_face")')
    found = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO).as_posix()
        if path.suffix not in SCANNED or not path.is_file() or rel in ALLOWED or _skipped(rel):
            continue
        for hit in _hard_coded_lists(path.read_text(encoding="utf-8", errors="replace")):
            found.append(f"{rel}: {' '.join(hit.split())[:80]}")
    assert not found, "channel lists outside channels.yml:\n" + "\n".join(found)


@pytest.mark.slow
def test_dbt_without_the_channel_vars_fails_loudly(tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    res = dbtRunner().invoke(["parse", "--project-dir", str(DBT), "--profiles-dir", str(DBT), "--target-path",
                              str(tmp_path)])
    assert not res.success
    assert "Required var 'channels' not found" in str(res.exception)


def test_every_channel_has_opening_hours_and_dbt_gets_them() -> None:
    """Opening hours (out of hours) come from channels.yml: the top-level default, replaced key by key by a
    channel's own `opening_hours`."""
    vars_ = dbt_vars()["opening_hours"]
    assert list(vars_) == CONFIGURED
    assert vars_["phone"] == {"iso_weekdays": [1, 2, 3, 4, 5], "opens": "08:30", "closes": "17:00",
                              "open_on_bank_holidays": False}
    assert vars_["face_to_face"]["opens"] == "09:00" and vars_["face_to_face"]["closes"] == "16:30"
    assert vars_["face_to_face"]["iso_weekdays"] == [1, 2, 3, 4, 5]  # not given: the default's


@pytest.mark.parametrize(("spec", "message"), [
    ({"opens": 510}, 'opening_hours.opens must be a quoted "HH:MM" time'),
    ({"closes": "5pm"}, 'opening_hours.closes must be a quoted "HH:MM" time'),
    ({"days": ["monday"]}, "opening_hours.days must be a list of mon, tue"),
    ({"bank_holidays": "yes"}, "opening_hours.bank_holidays must be closed or open"),
    ({"opens": "17:00", "closes": "09:00"}, "opening_hours opens at 17:00, not before it closes"),
    ({"open": "09:00"}, "opening_hours has unknown key(s) ['open']"),
])
def test_a_mistake_in_opening_hours_names_the_channel_and_the_key(tmp_path: Path, spec: dict, message: str) -> None:
    doc = yaml.safe_load((REPO / "joinedup/channels.yml").read_text(encoding="utf-8"))
    doc["channels"]["sms"]["opening_hours"] = spec
    path = tmp_path / "channels.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"channels.yml: sms: {message}")):
        load_channels(path)


def test_opening_hours_can_include_weekends_and_bank_holidays(tmp_path: Path) -> None:
    doc = yaml.safe_load((REPO / "joinedup/channels.yml").read_text(encoding="utf-8"))
    doc["channels"]["social"]["opening_hours"] = {"days": ["sat", "mon", "sun"], "bank_holidays": "open"}
    path = tmp_path / "channels.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    hours = dbt_vars(path)["opening_hours"]["social"]
    assert hours == {"iso_weekdays": [1, 6, 7], "opens": "08:30", "closes": "17:00", "open_on_bank_holidays": True}


@pytest.mark.slow
def test_dbt_with_the_channels_but_not_their_opening_hours_fails_loudly(tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    res = dbtRunner().invoke(["parse", "--project-dir", str(DBT), "--profiles-dir", str(DBT), "--target-path",
                              str(tmp_path), "--vars", json.dumps({"channels": CONFIGURED})])
    assert not res.success
    assert "Required var 'opening_hours' not found" in str(res.exception)
