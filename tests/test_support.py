"""data_support: per notebook, runs in full / in part / cannot run, with the reason and the fix."""
from __future__ import annotations

import pytest

from channelkit.data import load_dataset
from channelkit.data.support import data_support
from channelkit.errors import InputError
from minimal_data import CSV, write_dataset


def test_minimal_dataset_support_lines(tmp_path):
    # Two days of orders, every table present: history-bound parts are left out, others run.
    support = data_support(load_dataset(write_dataset(tmp_path)))
    lines = dict(line.split(": ", 1) for line in support.lines())
    assert lines["00_data_overview"] == "runs in full"
    assert lines["03_channel_attribution"] == "runs in full"
    assert lines["02_demand_forecast"].startswith("cannot run (it needs 56 days of sales history and the data cover 2")
    assert lines["01_channel_performance"].startswith("runs in part (without growth on last year: it needs 393 days")
    assert "without sales anomalies" in lines["01_channel_performance"]
    assert support.ok("01_channel_performance", "marketing") and support.note("01_channel_performance", "marketing") == ""


def test_missing_tables_and_columns_name_the_fix(tmp_path):
    products = CSV["products"].replace(",10,20\n", ",,20\n").replace(",4,10\n", ",,10\n")
    folder = write_dataset(tmp_path, drop=("marketing", "touchpoints", "inventory", "events"), products=products)
    support = data_support(load_dataset(folder), holidays="US")
    assert support.status("03_channel_attribution") == (
        "none", "the `touchpoints` table is missing; add touchpoints.csv to the data folder (docs/data.md#touchpoints)")
    assert support.note("01_channel_performance", "margin") == (
        "**Not shown: margins after commission.** `unit_cost` is empty in products; add the landed cost per unit as "
        "column `unit_cost` of products.csv.")
    status, why = support.status("05_promotions_experiments")
    assert status == "part" and "the events table has no promotion" in why
    assert "set `holidays: CN` in the config or add festival rows" in why
    assert not support.ok("01_channel_performance", "inventory")
    with pytest.raises(InputError, match="no part 'budget' in notebook '03_channel_attribution' \\(parts: attribution, spend\\)"):
        support.ok("03_channel_attribution", "budget")


def test_validate_prints_one_line_per_notebook(tmp_path, capsys):
    from channelkit.cli import main

    folder = write_dataset(tmp_path, drop=("touchpoints",))
    assert main(["validate", str(folder), "--holidays", "US"]) == 0
    out = capsys.readouterr().out
    assert "What the report can show:\n  00_data_overview: runs in full\n" in out
    assert ("  03_channel_attribution: cannot run (the `touchpoints` table is missing; add touchpoints.csv to the "
            "data folder (docs/data.md#touchpoints))") in out
    assert main(["validate", str(folder), "--holidays", "Atlantis"]) == 2
