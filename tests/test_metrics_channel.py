"""Channel KPIs against values worked by hand on a tiny frame (see the comments for the sums)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.metrics.channel import (
    ALL_CHANNELS,
    channel_scorecard,
    comparison_windows,
    last_full_period,
    last_touch_attribution,
    marketing_kpis,
    sales_channel_kpis,
)

ORDER_ROWS = [
    # order_id, sku, order_ts, customer_id, channel, units, unit_price, list_price, status
    ("O1", "A", "2025-03-01 10:00", "c1", "tmall", 2, 40.0, 50.0, "paid"),  # 80
    ("O1", "B", "2025-03-01 10:00", "c1", "tmall", 1, 20.0, 20.0, "paid"),  # 20
    ("O2", "A", "2025-03-05 09:00", "c1", "tmall", 1, 50.0, 50.0, "paid"),  # 50
    ("O3", "A", "2025-03-10 12:00", "c2", "tmall", 1, 45.0, 50.0, "refunded"),  # returned 45
    ("O4", "B", "2025-03-02 08:00", "c2", "jd", 3, 18.0, 20.0, "paid"),  # 54
    ("O5", "A", "2025-03-03 18:00", None, "jd", 1, 50.0, 50.0, "paid"),  # 50, anonymous
    ("O6", "B", "2025-03-04 11:00", "c3", "jd", 1, 20.0, 20.0, "cancelled"),  # never counts
    ("O7", "A", "2025-02-15 10:00", "c1", "tmall", 1, 50.0, 50.0, "paid"),  # prior period: 50
    ("O8", "B", "2024-03-20 10:00", "c4", "jd", 2, 20.0, 20.0, "paid"),  # last year: 40
    ("O9", "A", "2025-04-10 10:00", "c1", "tmall", 1, 50.0, 50.0, "paid"),  # after the window
]
COLUMNS = ["order_id", "sku", "order_ts", "customer_id", "channel", "units", "unit_price", "list_price", "status"]


@pytest.fixture()
def orders() -> pd.DataFrame:
    frame = pd.DataFrame(ORDER_ROWS, columns=COLUMNS)
    frame["order_ts"] = pd.to_datetime(frame["order_ts"])
    return frame


@pytest.fixture()
def products() -> pd.DataFrame:
    return pd.DataFrame({"sku": ["A", "B"], "unit_cost": [20.0, 10.0], "list_price": [50.0, 20.0]})


@pytest.fixture()
def channels() -> pd.DataFrame:
    return pd.DataFrame({"channel": ["tmall", "jd", "search", "social"], "kind": ["sales", "sales", "marketing",
                         "marketing"], "commission_rate": [0.05, 0.10, 0.0, 0.0]})


def test_scorecard_matches_hand_worked_values(orders, products, channels):
    card = channel_scorecard(orders, start="2025-03-01", end="2025-03-31", products=products,
                             channels=channels).set_index("channel")
    assert list(card.index) == ["tmall", "jd", ALL_CHANNELS]  # sorted by revenue, total last
    tmall, jd, total = card.loc["tmall"], card.loc["jd"], card.loc[ALL_CHANNELS]
    assert tmall["revenue"] == pytest.approx(150.0) and jd["revenue"] == pytest.approx(104.0)
    assert (tmall["orders"], tmall["units"], jd["orders"], jd["units"]) == (2, 4, 2, 4)
    assert tmall["aov"] == pytest.approx(75.0) and jd["aov"] == pytest.approx(52.0)
    assert tmall["revenue_share"] == pytest.approx(150 / 254)
    # c1 ordered twice on tmall; on jd only c2 has a paid order (O5 is anonymous).
    assert tmall["repeat_rate"] == pytest.approx(1.0) and jd["repeat_rate"] == pytest.approx(0.0)
    assert total["repeat_rate"] == pytest.approx(0.5)  # c1 repeats, c2 does not
    assert tmall["return_rate"] == pytest.approx(45 / 195)
    # margin = revenue - units * unit_cost - revenue * commission
    assert tmall["gross_margin"] == pytest.approx(150 - 70 - 7.5)
    assert jd["gross_margin"] == pytest.approx(104 - 50 - 10.4)
    assert total["gross_margin_rate"] == pytest.approx((72.5 + 43.6) / 254)
    # growth: prior period (29 Jan - 28 Feb 2025) and March 2024
    assert tmall["growth_prior"] == pytest.approx(150 / 50 - 1)
    assert np.isnan(jd["growth_prior"]) and np.isnan(tmall["growth_yoy"])
    assert jd["growth_yoy"] == pytest.approx(104 / 40 - 1)
    assert total["growth_yoy"] == pytest.approx(254 / 40 - 1)
    assert total["revenue"] == pytest.approx(254.0)


def test_margin_is_unknown_without_costs(orders):
    card = channel_scorecard(orders, start="2025-03-01", end="2025-03-31")
    assert card["gross_margin"].isna().all()


def test_monthly_kpis_per_period(orders):
    kpis = sales_channel_kpis(orders, freq="M")
    march = kpis[kpis["period"] == pd.Timestamp("2025-03-01")].set_index("channel")
    assert march.loc["tmall", "revenue"] == pytest.approx(150.0)
    assert march["revenue_share"].sum() == pytest.approx(1.0)
    feb = kpis[kpis["period"] == pd.Timestamp("2025-02-01")]
    assert feb["revenue"].tolist() == [50.0]


def test_comparison_windows():
    w = comparison_windows("2024-03-01", "2024-03-31")
    assert w["prior"] == (pd.Timestamp("2024-01-30"), pd.Timestamp("2024-02-29"))
    assert w["last_year"] == (pd.Timestamp("2023-03-01"), pd.Timestamp("2023-03-31"))
    with pytest.raises(InputError, match="`end` .* must not be before `start`"):
        comparison_windows("2024-03-02", "2024-03-01")


def test_last_full_period():
    dates = pd.Series(pd.date_range("2025-01-10", "2025-04-15"))
    assert last_full_period(dates) == (pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-31"))
    dates = pd.Series(pd.date_range("2025-01-10", "2025-04-30"))
    assert last_full_period(dates) == (pd.Timestamp("2025-04-01"), pd.Timestamp("2025-04-30"))
    with pytest.raises(InputError, match="cover no complete M period"):
        last_full_period(pd.Series(pd.date_range("2025-01-10", "2025-01-20")))


def test_last_touch_attribution(orders, products, channels):
    touches = pd.DataFrame({
        "customer_id": ["c1", "c1", "c2"],
        "ts": pd.to_datetime(["2025-02-28 20:00", "2025-03-04 12:00", "2025-01-01 10:00"]),
        "channel": ["search", "social", "search"],
    })
    credited = last_touch_attribution(orders, touches, products=products, channels=channels).set_index("order_id")
    # O1 follows the search touch; O2 the social one; O4's touch is older than 30 days; O7 has no
    # earlier touch; O9 is 37 days after the last touch.
    assert credited["marketing_channel"].to_dict() == {"O1": "search", "O2": "social"}
    assert credited.loc["O1", "revenue"] == pytest.approx(100.0)
    assert credited.loc["O1", "gross_margin"] == pytest.approx(100 - 50 - 5)
    longer = last_touch_attribution(orders, touches, lookback_days=90)
    assert set(longer["order_id"]) == {"O1", "O2", "O4", "O9"}
    with pytest.raises(InputError, match="`lookback_days` must be positive, but got 0"):
        last_touch_attribution(orders, touches, lookback_days=0)


def test_marketing_kpis(orders, products, channels):
    marketing = pd.DataFrame({
        "date": pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-01", "2025-05-01"]),
        "channel": ["search", "search", "social", "social"],
        "spend": [100.0, 100.0, 50.0, 999.0], "impressions": [1000, 1000, 500, 9], "clicks": [50, 30, 10, 9],
        "sessions": [40, 20, 10, 9], "conversions": [5, 3, 2, 9],
    })
    touches = pd.DataFrame({"customer_id": ["c1", "c1"], "ts": pd.to_datetime(["2025-02-28 20:00", "2025-03-04 00:00"]),
                            "channel": ["search", "social"]})
    credited = last_touch_attribution(orders, touches, products=products, channels=channels)
    kpis = marketing_kpis(marketing, start="2025-03-01", end="2025-03-31", attributed=credited).set_index("channel")
    search, social = kpis.loc["search"], kpis.loc["social"]
    assert search["spend"] == 200 and search["ctr"] == pytest.approx(80 / 2000)
    assert search["cpc"] == pytest.approx(2.5) and search["conversion_rate"] == pytest.approx(1 / 60)
    assert search["cpa"] == pytest.approx(200.0) and search["roas"] == pytest.approx(0.5)
    assert search["roi"] == pytest.approx((45 - 200) / 200)
    assert social["roas"] == pytest.approx(1.0) and social["roi"] == pytest.approx((27.5 - 50) / 50)
    assert search["platform_conversions"] == 8
    claimed = marketing_kpis(marketing, start="2025-03-01", end="2025-03-31").set_index("channel")
    assert claimed.loc["search", "cpa"] == pytest.approx(200 / 8) and claimed["roas"].isna().all()


def test_bad_input_names_the_column(orders):
    with pytest.raises(InputError, match=r"`orders` lacks column\(s\) \['unit_price'\]"):
        channel_scorecard(orders.drop(columns="unit_price"), start="2025-03-01", end="2025-03-31")
    with pytest.raises(InputError, match="`marketing` must be a pandas DataFrame"):
        marketing_kpis([1, 2])
