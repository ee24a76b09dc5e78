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


def test_gap_becomes_zero_with_shelf_price_times_channel_discount_within_paid_prices() -> None:
    """Changed with issue 20: the imputed price (shelf x (1 - channel discount)) is clipped into the
    prices the series was paid. S2 never sold below 50, so its zero day gets 50, not 40: a price it
    never carried would make "cheaper, no sale" perfectly predictable."""
    arrays = prepare_panel(tiny_panel())
    s2 = arrays.keys.index[arrays.keys["sku"] == "S2"][0]
    assert arrays.y[s2].tolist() == [1, 3, 0, 1]
    assert np.exp(arrays.logp[s2, 2]) == pytest.approx(50.0)
    assert arrays.mask.all()
    sold_cheap = tiny_panel()
    sold_cheap.loc[4, "price"] = 38.0  # S2 once sold at 38: 50 x (1 - 0.2) = 40 lies within what it was paid
    arrays = prepare_panel(sold_cheap)
    assert np.exp(arrays.logp[s2, 2]) == pytest.approx(40.0)


def test_an_item_always_sold_at_its_card_price_is_not_identified_not_divergent() -> None:
    """Issue 20: an item sold at its card price only, with zero weeks while the channel's other items
    were discounted, used to get discounted prices on exactly its zero weeks (separation: the slope ran
    to minus infinity and the fit's one convergence flag marked every series not_converged)."""
    from channelkit.elasticity import estimate_elasticities

    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", periods=120)
    disc = np.where(np.arange(120) % 10 < 3, 0.2, 0.0)
    rows = []
    for s in range(4):
        lp = np.log(20) + np.repeat(rng.normal(0, 0.25, 12), 10) + rng.normal(0, 0.05, 120)
        for c in ("a", "b"):
            paid = np.exp(lp) * (1 - disc)
            rows.append(pd.DataFrame({"date": dates, "sku": f"S{s}", "channel": c, "list_price": np.exp(lp),
                                      "price": paid, "units": rng.poisson(10 * (paid / 20) ** -1.5)}))
    card = pd.DataFrame({"date": dates, "sku": "CARD", "channel": "a", "list_price": 9.9, "price": 9.9,
                         "units": np.where(disc > 0, 0, 4)})
    panel = pd.concat(rows + [card.assign(channel=c) for c in ("a", "b")], ignore_index=True)
    panel = panel[panel["units"] > 0]  # an orders export: no row where nothing sold
    result = estimate_elasticities(panel, time_by=["channel"])
    card_rows = result[result["sku"] == "CARD"]
    assert card_rows["status"].eq("not_identified").all()
    others = result[result["sku"] != "CARD"]
    assert others["status"].eq("ok").all()
    assert (others["elasticity"] - (-1.5)).abs().median() < 0.3


def test_free_items_are_left_out_with_a_count() -> None:
    panel = tiny_panel()
    panel.loc[1, "price"] = 0.0  # S1 given away on Jan 2
    with pytest.warns(UserWarning, match=r"1 rows with `price` 0 \(free items\) are left out"):
        arrays = prepare_panel(panel)
    s1 = arrays.keys.index[arrays.keys["sku"] == "S1"][0]
    assert arrays.n_free == 1
    assert arrays.mask[s1].tolist() == [True, False, True, True]  # not a zero-sale day at an imputed price
    panel.loc[2, "price"] = -1.0
    with pytest.raises(InputError, match=r"`price` must be >= 0"):
        prepare_panel(panel)


def test_gaps_are_missing_when_the_panel_lists_its_zero_periods() -> None:
    panel = pd.concat([tiny_panel(), pd.DataFrame([("2024-01-02", "S3", "tm", 0, 5.0, 5.0),
                                                   ("2024-01-04", "S3", "tm", 2, 5.0, 5.0)],
                                                  columns=tiny_panel().columns)], ignore_index=True)
    arrays = prepare_panel(panel)  # 1 of 9 rows records zero units: the export lists zero periods itself
    s2 = arrays.keys.index[arrays.keys["sku"] == "S2"][0]
    s3 = arrays.keys.index[arrays.keys["sku"] == "S3"][0]
    assert arrays.gaps == "missing"
    assert arrays.mask[s2].tolist() == [True, True, False, True]  # Jan 3 was not observed
    assert arrays.mask[s3].tolist() == [False, True, False, True] and arrays.y[s3, 1] == 0
    forced = prepare_panel(panel, gaps="zero")
    assert forced.gaps == "zero" and forced.mask[s2].all() and forced.y[s2, 2] == 0
    assert prepare_panel(tiny_panel()).gaps == "zero"  # no zero rows: an orders export, gaps sold nothing
    with pytest.raises(InputError, match="`gaps` must be"):
        prepare_panel(tiny_panel(), gaps="drop")


def test_unobserved_weeks_read_as_zero_sales_would_bias_the_elasticity() -> None:
    """Scanner-style panel: zero weeks are listed; shelf prices hold for 6 weeks; weeks at the highest
    prices are often not recorded (item not carried). Reading those gaps as zero sales attaches zeros to
    the carried high price and inflates the elasticity; reading them as missing recovers the true -1.5."""
    from channelkit.elasticity import estimate_elasticities

    rng = np.random.default_rng(4)
    weeks = pd.date_range("2021-01-04", periods=300, freq="W-MON")
    rows = []
    for s in range(10):
        for store in ("a", "b", "c"):
            lp = np.log(5) + np.repeat(rng.normal(0, 0.2, 50), 6) + rng.normal(0, 0.05, 300)
            units = rng.poisson(np.exp(0.8 - 1.5 * (lp - np.log(5))))
            keep = ~((lp > np.quantile(lp, 0.8)) & (rng.random(len(weeks)) < 0.6))
            rows.append(pd.DataFrame({"date": weeks[keep], "sku": f"S{s}", "channel": store, "units": units[keep],
                                      "price": np.exp(lp[keep])}))
    panel = pd.concat(rows, ignore_index=True)
    assert (panel["units"] == 0).mean() > 0.05
    auto = estimate_elasticities(panel)  # reads the gaps as missing (seeds 4-9: medians -1.45 to -1.59)
    as_zero = estimate_elasticities(panel, gaps="zero")  # (seeds 4-9: -1.95 to -2.15)
    assert abs(auto["elasticity"].median() + 1.5) < 0.15
    assert as_zero["elasticity"].median() < -1.8


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
