"""`channelkit promotions`: end to end on the sample retailer."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.cli import main


def test_promotions_cli_on_the_sample(sample_dir, sample_truth, tmp_path, capsys):
    out = tmp_path / "promos.csv"
    spend = tmp_path / "spend.csv"
    first = sample_truth["promotions"][0]
    pd.DataFrame({"event": [first["event"]], "spend": [1000.0]}).to_csv(spend, index=False)
    assert main(["promotions", "--data", str(sample_dir), "--out", str(out), "--kinds", "promotion",
                 "--spend", str(spend)]) == 0
    table = pd.read_csv(out)
    assert sorted(table["event"]) == sorted(p["event"] for p in sample_truth["promotions"])
    assert (table["method"] == "difference-in-differences").all() and table["note"].isna().all()
    row = table.set_index("event").loc[first["event"]]
    assert row["spend"] == 1000.0
    assert row["roi"] == pytest.approx((row["net_incremental_margin"] - 1000.0) / (row["discount_cost"] + 1000.0))
    assert "channel promotions: 35" in capsys.readouterr().out


def test_promotions_cli_errors(sample_dir, tmp_path, capsys):
    assert main(["promotions", "--data", str(sample_dir), "--out", str(tmp_path / "x.txt")]) == 2
    assert "--out must end in .csv, .parquet or .json" in capsys.readouterr().err
    assert main(["promotions", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "--data: no such folder" in capsys.readouterr().err
    assert main(["promotions", "--data", str(sample_dir), "--out", str(tmp_path / "x.csv"), "--kinds", "sale"]) == 2
    assert "--kinds must list promotion, festival or holiday" in capsys.readouterr().err
