"""`channelkit promotions`: end to end on the sample retailer."""
from __future__ import annotations

import shutil

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


def test_promotions_cli_names_a_promotion_on_festival_days(sample_dir, tmp_path, capsys):
    """A tmall coupon labelled on 2025-11-08..14 (5 days inside double11, 2 in its post window) that
    the data never received: the row names the overlap, the split is made, and it finds no lift."""
    data = tmp_path / "data"
    shutil.copytree(sample_dir, data)
    events = pd.read_csv(data / "events.csv")
    coupon = pd.DataFrame({"date": pd.date_range("2025-11-08", "2025-11-14").strftime("%Y-%m-%d"),
                           "event": "tmall_coupon", "kind": "promotion", "channel": "tmall", "discount": 0.1})
    pd.concat([events, coupon], ignore_index=True).to_csv(data / "events.csv", index=False)
    out = tmp_path / "promos.csv"
    assert main(["promotions", "--data", str(data), "--out", str(out), "--kinds", "promotion"]) == 0
    row = pd.read_csv(out).set_index("event").loc["tmall_coupon"]
    assert row["overlap"] == ("double11 2025-11-08..2025-11-12 (5 days); double11 post window "
                              "2025-11-13..2025-11-14 (2 days)") and row["overlap_days"] == 5
    assert row["overlap_split"] == "log-additive" and pd.isna(row["note"])
    assert row["incremental_low"] < 0 < row["incremental_high"]  # the label changed nothing in the data
    assert "promotions on festival days: 1 (0 wholly inside a festival" in capsys.readouterr().out
