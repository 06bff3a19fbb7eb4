"""The command-line contract the benchmarks call."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from joinedup.cli import app
from linkage.pipeline import OUTPUT_COLUMNS
from tests.linkage.conftest import STATE_KEY

runner = CliRunner()


def test_link_cli_contract(register, contacts_truth, model, tmp_path):
    con, _ = contacts_truth
    reg_path, con_path = tmp_path / "reg.csv", tmp_path / "con.parquet"
    register.to_csv(reg_path, index=False)
    con.iloc[:300].astype(object).to_parquet(con_path)
    model_path = tmp_path / "model.json"
    model.save(model_path)
    for out_name, extra in (("out.csv", []), ("out.parquet", ["--model", str(model_path)])):
        out = tmp_path / out_name
        res = runner.invoke(app, ["link", "--register", str(reg_path), "--contacts", str(con_path),
                                  "--out", str(out), *extra])
        assert res.exit_code == 0, res.output
        df = pd.read_csv(out) if out.suffix == ".csv" else pd.read_parquet(out)
        assert list(df.columns) == OUTPUT_COLUMNS and len(df) == 300


def test_review_export_and_import_cli(register, contacts_truth, model, tmp_path):
    con, _ = contacts_truth
    reg_path, con_path, out = tmp_path / "reg.csv", tmp_path / "con.csv", tmp_path / "out.csv"
    register.to_csv(reg_path, index=False)
    con.to_csv(con_path, index=False)
    model.save(tmp_path / "m.json")
    state = tmp_path / "state"
    res = runner.invoke(app, ["link", "--register", str(reg_path), "--contacts", str(con_path), "--out", str(out),
                              "--model", str(tmp_path / "m.json"), "--state-dir", str(state)],
                        env={"JOINEDUP_PSEUDONYM_KEY": STATE_KEY.decode()})
    assert res.exit_code == 0, res.output
    sheet = tmp_path / "review.csv"
    res = runner.invoke(app, ["link-review-export", "--register", str(reg_path), "--contacts", str(con_path),
                              "--result", str(out), "--out", str(sheet)])
    assert res.exit_code == 0, res.output
    q = pd.read_csv(sheet, dtype=str)
    q.loc[0, "decision"] = "accept"
    q.to_csv(sheet, index=False)
    res = runner.invoke(app, ["link-review-import", "--decisions", str(sheet), "--state-dir", str(state)])
    assert res.exit_code == 0 and "stored 1" in res.output
