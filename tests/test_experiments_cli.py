"""`channelkit experiment`: end to end on a simulated per-user table."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from channelkit.cli import main
from channelkit.experiments import conversion_test, simulate_ab_test


@pytest.fixture(scope="module")
def ab_csv(tmp_path_factory):
    df, _ = simulate_ab_test(6000, seed=21)
    path = tmp_path_factory.mktemp("ab") / "ab.csv"
    df.to_csv(path, index=False)
    return path, df


def test_experiment_cli_writes_every_test(ab_csv, tmp_path, capsys):
    path, df = ab_csv
    out = tmp_path / "res.json"
    assert main(["experiment", "--input", str(path), "--out", str(out), "--resamples", "500"]) == 0
    payload = json.loads(out.read_text())
    methods = [t["method"] for t in payload["tests"]]
    assert methods == ["two-proportion z", "welch", "bootstrap (percentile)", "CUPED Welch (covariate pre_revenue)"]
    assert payload["tests"][0]["p_value"] == pytest.approx(conversion_test(df).iloc[0]["p_value"])
    assert payload["peeking"]["looks"] == 14 and "srm" in payload
    assert "U000" not in out.read_text()  # no user id in the output
    csv_out = tmp_path / "res.csv"
    assert main(["experiment", "--input", str(path), "--out", str(csv_out), "--value-col", "none"]) == 0
    assert pd.read_csv(csv_out)["method"].tolist() == ["two-proportion z"]


def test_experiment_cli_warns_when_stopped_before_the_plan(ab_csv, tmp_path, capsys):
    path, _ = ab_csv
    out = tmp_path / "res.json"
    main(["experiment", "--input", str(path), "--out", str(out), "--value-col", "none", "--planned-n", "60000"])
    payload = json.loads(out.read_text())
    assert payload["peeking"]["reached_planned_n"] is False
    if payload["tests"][0]["significant"]:
        assert payload["peeking"]["stopped_early"] and "peeking" in capsys.readouterr().err
    else:
        assert not payload["peeking"]["stopped_early"]


def test_experiment_cli_errors(ab_csv, tmp_path, capsys):
    path, _ = ab_csv
    assert main(["experiment", "--input", str(path), "--out", str(tmp_path / "x.txt")]) == 2
    assert "--out must end in .csv, .parquet or .json" in capsys.readouterr().err
    assert main(["experiment", "--input", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["experiment", "--input", str(path), "--out", str(tmp_path / "x.csv"), "--value-col", "spend"]) == 2
    assert "lacks column(s) ['spend']" in capsys.readouterr().err
