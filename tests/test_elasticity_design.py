"""Panel preparation: zero completion, price imputation, duplicates, identification, calendar controls."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.elasticity.design import calendar_controls, identification, prepare_panel
from channelkit.errors import InputError


def tiny_panel() -> pd.DataFrame:
    """Two SKUs on one channel; S2 sells nothing on Jan 3 (no row) during a 20% channel promotion."""
    rows = [
        ("2024-01-01", "S1", "tm", 2, 10.0, 10.0), ("2024-01-02", "S1", "tm", 1, 10.0, 10.0),
        ("2024-01-03", "S1", "tm", 4, 8.0, 10.0), ("2024-01-04", "S1", "tm", 2, 10.0, 10.0),
        ("2024-01-01", "S2", "tm", 1, 50.0, 50.0), ("2024-01-02", "S2", "tm", 3, 50.0, 50.0),
        ("2024-01-04", "S2", "tm", 1, 55.0, 55.0),
    ]
    return pd.DataFrame(rows, columns=["date", "sku", "channel", "units", "price", "list_price"])


def test_gap_becomes_zero_with_shelf_price_times_channel_discount() -> None:
    arrays = prepare_panel(tiny_panel())
    s2 = arrays.keys.index[arrays.keys["sku"] == "S2"][0]
    assert arrays.y[s2].tolist() == [1, 3, 0, 1]
    # shelf 50 carried forward, times (1 - 0.2): the discount S1 shows on the same channel and day
    assert np.exp(arrays.logp[s2, 2]) == pytest.approx(40.0)
    assert arrays.mask.all()


def test_without_list_price_the_nearest_price_is_carried() -> None:
    arrays = prepare_panel(tiny_panel().drop(columns="list_price"))
    s2 = arrays.keys.index[arrays.keys["sku"] == "S2"][0]
    assert np.exp(arrays.logp[s2, 2]) == pytest.approx(50.0)


def test_series_is_only_active_within_its_own_span() -> None:
    panel = tiny_panel()
    panel = panel[~((panel["sku"] == "S2") & (panel["date"] == "2024-01-01"))]
    arrays = prepare_panel(panel)
    s2 = arrays.keys.index[arrays.keys["sku"] == "S2"][0]
    assert arrays.mask[s2].tolist() == [False, True, True, True]


def test_duplicates_are_summed_and_unit_weighted_and_negative_units_clipped() -> None:
    panel = pd.concat([tiny_panel(), pd.DataFrame([("2024-01-01", "S1", "tm", 2, 12.0, 12.0),
                                                   ("2024-01-02", "S2", "tm", -5, 50.0, 50.0)],
                                                  columns=tiny_panel().columns)])
    arrays = prepare_panel(panel)
    s1 = arrays.keys.index[arrays.keys["sku"] == "S1"][0]
    s2 = arrays.keys.index[arrays.keys["sku"] == "S2"][0]
    assert arrays.y[s1, 0] == 4 and np.exp(arrays.logp[s1, 0]) == pytest.approx(11.0)
    assert arrays.y[s2, 1] == 0  # 3 - 5 = -2 net units: a return-heavy day counts as no sale


def test_identification_statuses() -> None:
    dates = pd.date_range("2024-01-01", periods=30)
    ok = pd.DataFrame({"date": dates, "sku": "A", "channel": "c", "units": 3, "price": np.r_[[10.0] * 15, [12.0] * 15]})
    flat = ok.assign(sku="B", price=10.0)
    status = identification(prepare_panel(pd.concat([ok, flat])))
    assert status.set_index("sku")["status"].to_dict() == {"A": "ok", "B": "not_identified"}
    assert status.set_index("sku").loc["A", "price_sd"] == pytest.approx(np.log(1.2) / 2)


def test_calendar_controls_have_weekdays_festivals_and_trend() -> None:
    cal = calendar_controls(pd.date_range("2024-10-01", "2024-12-31"))
    assert {"dow_1", "dow_6", "trend", "year_sin1", "fest_double11_peak", "holiday"} <= set(cal.columns)
    assert cal.loc["2024-11-11", "fest_double11_peak"] == 1.0 and cal["fest_double11_peak"].sum() == 1.0


def test_missing_columns_and_text_prices_are_named() -> None:
    with pytest.raises(InputError, match=r"lacks the column\(s\) \['price'\]"):
        prepare_panel(tiny_panel().drop(columns="price"))
    with pytest.raises(InputError, match=r"column `price` must be numeric, but has values like \['¥10'\]"):
        prepare_panel(tiny_panel().assign(price="¥10"))
