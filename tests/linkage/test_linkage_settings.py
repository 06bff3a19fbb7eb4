"""Link settings are one typed, validated object, apart from what the model learns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkage.model import Model
from linkage.pipeline import link
from linkage.settings import PACKAGED, SettingsError, load_settings
from tests.linkage.conftest import STATE_KEY


def test_the_packaged_file_is_the_one_place_defaults_are_written() -> None:
    s = load_settings()
    assert (s.thresholds.auto, s.thresholds.review, s.edges.max_contacts_per_identifier) == (0.9, 0.6, 200)
    # the model classes carry no default values that could disagree with the file
    from linkage.settings import LinkSettings, Thresholds

    assert all(f.is_required() for f in Thresholds.model_fields.values())
    assert all(f.is_required() for f in LinkSettings.model_fields.values())
    assert "auto: 0.9" in PACKAGED.read_text()


def test_a_file_changes_one_line_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "link.yml"
    mine.write_text("thresholds: {auto: 0.97}\n")
    s = load_settings(mine)
    assert s.thresholds.auto == 0.97 and s.thresholds.review == 0.6  # the rest still from the packaged file
    monkeypatch.setenv("JOINEDUP_LINK_SETTINGS", str(mine))
    assert load_settings().thresholds.auto == 0.97
    monkeypatch.setenv("JOINEDUP_LINK__THRESHOLDS__AUTO", "0.99")
    assert load_settings().thresholds.auto == 0.99


@pytest.mark.parametrize(("doc", "env", "says"), [
    ("thresholds: {autoo: 0.95}\n", {}, "thresholds.autoo"),
    ("threshold: {auto: 0.95}\n", {}, "threshold"),
    ("thresholds: {auto: 0.5, review: 0.7}\n", {}, "review (0.7) must not be above auto (0.5)"),
    ("thresholds: {auto: 2}\n", {}, "thresholds.auto"),
    ("", {"JOINEDUP_LINK__THRESHOLD__AUTO": "0.9"}, "JOINEDUP_LINK__THRESHOLD__AUTO"),
    ("", {"JOINEDUP_LINK__THRESHOLDS__AUTOO": "0.9"}, "autoo"),
    ("- not a mapping\n", {}, "expected a mapping"),
])
def test_an_unknown_or_invalid_key_is_an_error_naming_it(doc: str, env: dict[str, str], says: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "link.yml"
    mine.write_text(doc)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError, match=None) as err:
        load_settings(mine)
    assert says in str(err.value)


def test_the_saved_model_holds_learned_parameters_only_and_never_overrides_a_setting(
        register, contacts_truth, model, tmp_path: Path) -> None:
    con, _ = contacts_truth
    state = tmp_path / "state"
    link(register, con.head(400), model=model, state_dir=state, identifier_key=STATE_KEY)
    saved = json.loads((state / "model.json").read_text())
    assert "thresholds" not in saved and saved["version"] == 2
    assert set(saved) == {"version", "p_in_register", "trained_on", "comparisons"}
    # a version-1 file's thresholds are ignored: settings decide
    legacy = {**saved, "version": 1, "thresholds": {"auto": 0.01, "review": 0.005, "ambiguity_bits": 0}}
    assert Model.from_json(json.dumps(legacy)).m == model.m
    # a stricter threshold, one setting, changes decisions on the same model and data
    loose = link(register, con.head(400), model=model)
    strict = link(register, con.head(400), model=model, settings=load_settings(thresholds={"auto": 0.9999}))
    scored = loose["explanation"].str.contains('"via":"score"')
    assert (loose.loc[scored, "decision"] == "matched").sum() > (strict.loc[scored, "decision"] == "matched").sum()


def test_merge_protection_uses_the_settings_passed_to_link(register, model) -> None:
    """Clustering's refusals once read a module default, not the policy given to link()."""
    import pandas as pd

    mobile = "07700 900457"
    con = pd.DataFrame({"contact_id": ["a", "b"], "phone": [mobile, mobile],
                        "occurred_at": ["2025-06-01T10:00:00Z", "2025-06-02T10:00:00Z"]})
    joined = link(register, con, model=model)
    assert joined["person_id"].nunique() == 1  # one mobile, one person
    blocked = load_settings(edges={"blocked_values": ["+447700900457"]})
    apart = link(register, con, model=model, settings=blocked)
    assert apart["person_id"].nunique() == 2  # the configured switchboard number joins nobody
