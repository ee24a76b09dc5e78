"""Panel validation and cleaning: frequency, gaps, returns, duplicates, clear errors."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast.frames import infer_freq, prepare_panel, season_length_for


def _panel(dates, units, sku="A", channel="tmall"):
    return pd.DataFrame({"date": pd.to_datetime(dates), "sku": sku, "channel": channel, "units": units})


def test_gaps_become_zero_sales_up_to_the_panel_end():
    a = _panel(["2025-01-01", "2025-01-02", "2025-01-05"], [3, 4, 5])
    b = _panel(["2025-01-03", "2025-01-07"], [1, 2], sku="B")  # a new SKU, later start, later end
    prep = prepare_panel(pd.concat([a, b]))
    got = prep.with_ids(prep.data)
    a_rows = got[got["sku"] == "A"]
    assert a_rows["date"].dt.strftime("%d").tolist() == ["01", "02", "03", "04", "05", "06", "07"]
    assert a_rows["y"].tolist() == [3, 4, 0, 0, 5, 0, 0]
    assert got[got["sku"] == "B"]["y"].tolist() == [1, 0, 0, 0, 2]  # starts at its first sale
    assert prep.notes["gap_periods_filled"] == 7 and prep.freq == "D" and prep.season_length == 7


def test_returns_clip_keep_and_error():
    p = _panel(pd.date_range("2025-01-01", periods=4), [2, -3, 1, 0])
    assert prepare_panel(p).data["y"].tolist() == [2, 0, 1, 0]
    assert prepare_panel(p, returns="keep").data["y"].tolist() == [2, -3, 1, 0]
    assert prepare_panel(p).notes["negative_periods"] == 1
    with pytest.raises(InputError, match=r"negative values \(returns\) such as \[-3"):
        prepare_panel(p, returns="error")


def test_weekly_frequency_is_inferred_even_with_gaps():
    dates = pd.date_range("2025-01-06", periods=10, freq="W-MON").delete([3, 4])
    prep = prepare_panel(_panel(dates, range(8)))
    assert prep.freq == "W-MON" and prep.season_length == 52
    assert len(prep.data) == 10 and prep.data["y"].iloc[3] == 0
    assert infer_freq(pd.Series(pd.date_range("2025-01-01", periods=5, freq="MS"))) == "MS"


def test_bad_input_errors_name_the_problem():
    p = _panel(pd.date_range("2025-01-01", periods=4), [1, 2, 3, 4])
    with pytest.raises(InputError, match=r"missing column\(s\) \['units'\]"):
        prepare_panel(p.drop(columns="units"))
    with pytest.raises(InputError, match=r"must hold dates, but got unparseable values such as \['not a day'\]"):
        prepare_panel(p.assign(date=["2025-01-01", "not a day", "2025-01-03", "2025-01-04"]))
    with pytest.raises(InputError, match=r"must be numeric, but got values such as \['many'\]"):
        prepare_panel(p.assign(units=[1, "many", 2, 3]))
    with pytest.raises(InputError, match=r"1 duplicate \(sku, channel, date\) rows"):
        prepare_panel(pd.concat([p, p.head(1)]))
    with pytest.raises(InputError, match="off the 'W-MON' grid"):
        prepare_panel(p, freq="W-MON")
    with pytest.raises(InputError, match="most common spacing is 3 days"):
        infer_freq(pd.Series(pd.date_range("2025-01-01", periods=6, freq="3D")).drop([2]))
    with pytest.raises(InputError, match="`freq` must be daily, weekly"):
        season_length_for("min")
