"""Monitoring checks against hand-worked values and planted anomalies."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.monitoring import (MAD_SCALE, inventory_risk, label_events, price_consistency, robust_zscore,
                                   sales_anomalies)

ORDERS = pd.DataFrame(
    [("O1", "A", "2025-03-01 10:00", "c1", "tmall", 2, 40.0, 50.0, "paid"),
     ("O2", "A", "2025-03-05 09:00", "c1", "tmall", 1, 50.0, 50.0, "paid"),
     ("O1", "B", "2025-03-01 10:00", "c1", "tmall", 1, 20.0, 20.0, "paid"),
     ("O4", "B", "2025-03-02 08:00", "c2", "jd", 3, 18.0, 20.0, "paid"),
     ("O5", "A", "2025-03-03 18:00", None, "jd", 1, 50.0, 50.0, "paid"),
     ("O6", "A", "2025-03-04 11:00", "c3", "jd", 5, 10.0, 50.0, "cancelled")],
    columns=["order_id", "sku", "order_ts", "customer_id", "channel", "units", "unit_price", "list_price", "status"],
)
PRODUCTS = pd.DataFrame({"sku": ["A", "B"], "list_price": [50.0, 20.0]})


def test_price_consistency_hand_worked():
    table = price_consistency(ORDERS, PRODUCTS, tolerance=0.05, only_flagged=False).set_index(["sku", "channel"])
    # A on tmall: (2*40 + 1*50) / 3 units; the cancelled O6 never counts.
    assert table.loc[("A", "tmall"), "price"] == pytest.approx(130 / 3)
    assert table.loc[("A", "tmall"), "vs_list"] == pytest.approx(130 / 150 - 1)
    assert table.loc[("A", "jd"), "others_price"] == pytest.approx(130 / 3)
    assert table.loc[("A", "jd"), "vs_others"] == pytest.approx(50 / (130 / 3) - 1)
    assert table.loc[("B", "jd"), "issue"] == "10% below list price; 10% below other channels"
    flagged = price_consistency(ORDERS, PRODUCTS, tolerance=0.12)
    # Only departures above 12%: A on jd (+15.4% vs tmall) and A on tmall (-13.3%); B's 10-11% pass.
    assert list(zip(flagged["sku"], flagged["channel"])) == [("A", "jd"), ("A", "tmall")]
    shelf = price_consistency(ORDERS, PRODUCTS, tolerance=0.05, price="shelf")
    assert shelf.empty  # every shelf price equals the list price


def test_price_consistency_rejects_bad_tolerance():
    with pytest.raises(InputError, match=r"`tolerance` must satisfy 0 < tolerance < 1 \(a share\), but got 5"):
        price_consistency(ORDERS, PRODUCTS, tolerance=5)
    with pytest.raises(InputError, match="`products` lacks column"):
        price_consistency(ORDERS, PRODUCTS.drop(columns="list_price"))


def test_robust_zscore_hand_worked():
    z = robust_zscore([1, 2, 3, 4, 100])  # median 3, MAD 1
    assert z[-1] == pytest.approx(97 / MAD_SCALE) and z[0] == pytest.approx(-2 / MAD_SCALE)
    assert np.isnan(robust_zscore([5, 5, 5, 5])).all()


def _weekly_series(weeks: int = 12, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pattern = np.array([100, 100, 100, 110, 150, 200, 120], dtype=float)
    values = np.tile(pattern, weeks) * (1 + rng.normal(0, 0.02, 7 * weeks))
    days = pd.date_range("2025-01-06", periods=7 * weeks, freq="D")
    frame = pd.DataFrame({"date": days, "channel": "tmall", "revenue": values})
    frame.loc[40, "revenue"] *= 3.0  # a spike on a Saturday (pattern 200)
    frame.loc[55, "revenue"] *= 0.3  # an outage on a Sunday (pattern 120)
    return frame


@pytest.mark.parametrize("log", [True, False])
def test_sales_anomalies_finds_planted_days(log):
    frame = _weekly_series()
    quiet = frame.assign(channel="jd", revenue=np.tile([50.0, 60, 55, 52, 58, 70, 65], 12))
    alerts = sales_anomalies(pd.concat([frame, quiet]), log=log)
    days = pd.date_range("2025-01-06", periods=84, freq="D")
    # The planted days score far above everything else (2% Gaussian noise may cross 3.5 once).
    top = alerts.reindex(alerts["score"].abs().sort_values(ascending=False).index)
    assert set(top["date"][:2]) == {days[40], days[55]} and (top["score"].abs()[2:] < 5).all()
    strict = sales_anomalies(pd.concat([frame, quiet]), log=log, threshold=5)
    assert set(strict["date"]) == {days[40], days[55]}
    assert set(alerts["channel"]) == {"tmall"}  # the perfectly regular jd series has nothing to report
    spike = alerts.set_index("date").loc[days[40]]
    assert spike["direction"] == "above" and spike["expected"] == pytest.approx(200, rel=0.1)
    drop = alerts.set_index("date").loc[days[55]]
    assert drop["direction"] == "below" and drop["expected"] == pytest.approx(120, rel=0.1)
    assert drop["deviation"] == pytest.approx(drop["actual"] - drop["expected"])


def test_sales_anomalies_window_and_missing_days():
    frame = _weekly_series().drop(index=[10])  # a day without sales counts as 0 revenue: an alert
    days = pd.date_range("2025-01-06", periods=84, freq="D")
    alerts = sales_anomalies(frame, start=days[50], end=days[60], threshold=5)
    assert list(alerts["date"]) == [days[55]]
    assert days[10] in set(sales_anomalies(frame)["date"])
    with pytest.raises(InputError, match="`daily` lacks column"):
        sales_anomalies(frame.drop(columns="revenue"))


def test_inventory_risk_hand_worked():
    days = pd.date_range("2025-03-01", "2025-03-04")
    sales = pd.DataFrame({"date": np.repeat(days, 2), "sku": ["A", "B"] * 4, "units": [2.0, 1.0] * 4})
    inventory = pd.DataFrame({"sku": ["A", "A", "B", "C"], "location": ["w1", "w2", "all", "all"],
                              "on_hand": [6, 4, 30, 5], "lead_time_days": [7, 5, 10, 3]})
    table = inventory_risk(inventory, sales, window_days=4, only_at_risk=False).set_index("sku")
    # A: 8 units in 4 days = 2/day, 10 in stock -> 5 days < 7 (longest lead time); short by 14 - 10 = 4.
    assert table.loc["A", "daily_demand"] == pytest.approx(2.0)
    assert table.loc["A", "days_of_cover"] == pytest.approx(5.0)
    assert bool(table.loc["A", "at_risk"]) and table.loc["A", "shortfall_units"] == 4
    assert table.loc["B", "days_of_cover"] == pytest.approx(30.0) and not table.loc["B", "at_risk"]
    assert np.isinf(table.loc["C", "days_of_cover"])
    assert inventory_risk(inventory, sales, window_days=4)["sku"].tolist() == ["A"]
    with pytest.raises(InputError, match="`window_days` must be at least 1, but got 0"):
        inventory_risk(inventory, sales, window_days=0)


def test_label_events_names_known_days():
    alerts = pd.DataFrame({"date": pd.to_datetime(["2025-11-11", "2025-11-11", "2025-03-20"]),
                           "channel": ["tmall", "jd", "jd"], "score": [9.0, 8.0, -5.0]})
    events = pd.DataFrame({"date": pd.to_datetime(["2025-11-11", "2025-11-11", "2025-03-20"]),
                           "event": ["double11", "tmall_promo", "jd_promo"], "channel": [None, "tmall", "own_app"]})
    labelled = label_events(alerts, events)
    # an event without a channel applies to all; a channel's promotion only to that channel
    assert labelled["event"].tolist() == ["double11, tmall_promo", "double11", ""]
    # without an events table, the offline festival calendar names Double 11
    assert label_events(alerts)["event"].tolist()[:2] == ["double11", "double11"]
