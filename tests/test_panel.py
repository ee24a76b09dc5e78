"""daily_sales: the sales panel from order lines, checked against hand-computed values."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.data import load_dataset
from channelkit.data.panel import PANEL_COLUMNS, daily_sales, panel_from_orders
from channelkit.errors import InputError
from minimal_data import CSV, write_dataset

EXTRA_LINES = (
    "A6,SKU-1,2025-06-11 18:00:00,C4,tmall,1,15,20,paid\n"       # same cell as A1: prices average by unit
    "A7,SKU-2,2025-06-15 23:59:59,C5,tmall,2,9,10,paid\n"        # Sunday: still the week of Monday 06-09
    "A8,SKU-2,2025-06-16 00:00:01,C5,tmall,1,10,10,paid\n"       # Monday: a new week
)


@pytest.fixture()
def dataset(tmp_path):
    return load_dataset(write_dataset(tmp_path, orders=CSV["orders"] + EXTRA_LINES))


def _row(panel: pd.DataFrame, date: str, sku: str, channel: str) -> pd.Series:
    hit = panel[(panel["date"] == pd.Timestamp(date)) & (panel["sku"] == sku) & (panel["channel"] == channel)]
    assert len(hit) == 1, hit
    return hit.iloc[0]


def test_daily_panel_matches_hand_computation(dataset):
    panel = daily_sales(dataset)
    assert list(panel.columns) == PANEL_COLUMNS
    assert len(panel) == 6
    # 06-11 SKU-1 tmall: paid A1 (2 @ 18, shelf 20) and A6 (1 @ 15, shelf 20); A2 refunded (1 @ 20);
    # A3 cancelled (5 @ 15) is excluded everywhere.
    cell = _row(panel, "2025-06-11", "SKU-1", "tmall")
    assert cell["units"] == 3.0
    assert cell["revenue"] == 51.0
    assert cell["orders"] == 2
    assert cell["price"] == pytest.approx(17.0)
    assert cell["list_price"] == pytest.approx(20.0)
    assert cell["discount"] == pytest.approx(0.15)
    assert cell["promo"]
    assert (cell["returned_units"], cell["returned_revenue"]) == (1.0, 20.0)
    # 06-11 SKU-2 tmall: full price, no event: no promo.
    cell = _row(panel, "2025-06-11", "SKU-2", "tmall")
    assert (cell["units"], cell["revenue"], cell["price"], cell["discount"], cell["promo"]) == (1.0, 10.0, 10.0, 0.0, False)
    # 06-12 SKU-1 app: full price, but the app's flash-sale promotion event runs that day.
    cell = _row(panel, "2025-06-12", "SKU-1", "app")
    assert (cell["units"], cell["revenue"], cell["discount"], cell["promo"]) == (3.0, 60.0, 0.0, True)
    cell = _row(panel, "2025-06-12", "SKU-2", "app")
    assert (cell["units"], cell["revenue"], cell["price"]) == (4.0, 32.0, 8.0)
    assert cell["discount"] == pytest.approx(0.2)


def test_weekly_panel_starts_on_monday(dataset):
    weekly = daily_sales(dataset, freq="W")
    assert set(weekly["date"].dt.weekday) == {0}
    # Week of Monday 2025-06-09, SKU-2 tmall: A1 (1 @ 10) and Sunday's A7 (2 @ 9), shelf price 10.
    cell = _row(weekly, "2025-06-09", "SKU-2", "tmall")
    assert (cell["units"], cell["revenue"], cell["orders"]) == (3.0, 28.0, 2)
    assert cell["price"] == pytest.approx(28 / 3)
    assert cell["discount"] == pytest.approx(1 - 28 / 30)
    # Monday 00:00:01 opens the next week.
    cell = _row(weekly, "2025-06-16", "SKU-2", "tmall")
    assert (cell["units"], cell["revenue"]) == (1.0, 10.0)
    assert weekly["units"].sum() == daily_sales(dataset)["units"].sum()


def test_fully_refunded_cell_keeps_its_returns_and_the_price_it_sold_at():
    # Two refunded lines sold at 20% off (3 units: 2 @ 4.0 and 1 @ 4.0, shelf 5.0): net nothing,
    # but the cell was on promotion, so a promo control must see it (else PPML separation).
    orders = pd.DataFrame({
        "order_id": ["R1", "R2"], "sku": ["S", "S"], "order_ts": pd.to_datetime(["2025-01-02 10:00", "2025-01-02 11:00"]),
        "customer_id": ["C", "D"], "channel": ["tmall", "tmall"], "units": [2, 1], "unit_price": [4.0, 4.0],
        "list_price": [5.0, 5.0], "discount": [0.2, 0.2], "status": ["refunded", "refunded"],
    })
    panel = panel_from_orders(orders)
    assert panel[["units", "revenue", "orders", "returned_units", "returned_revenue"]].iloc[0].tolist() == [0, 0, 0, 3, 12]
    assert panel[["price", "list_price"]].iloc[0].tolist() == [4.0, 5.0]
    assert panel["discount"].iloc[0] == pytest.approx(0.2) and panel["promo"].iloc[0]


def test_unknown_freq_is_refused(dataset):
    with pytest.raises(InputError, match=r"`freq` must be 'D' \(daily\) or 'W' .* but got 'M'"):
        daily_sales(dataset, freq="M")


def test_sample_panel_agrees_with_its_order_lines(sample_dataset):
    orders = sample_dataset.orders
    panel = daily_sales(sample_dataset)
    paid = orders[orders["status"] == "paid"]
    refunded = orders[orders["status"] == "refunded"]
    assert panel["units"].sum() == paid["units"].sum()
    assert panel["revenue"].sum() == pytest.approx((paid["units"] * paid["unit_price"]).sum())
    assert panel["returned_units"].sum() == refunded["units"].sum()
    assert panel["orders"].sum() == paid.groupby([paid["order_ts"].dt.normalize(), "sku", "channel"])["order_id"].nunique().sum()
    assert not panel.duplicated(["date", "sku", "channel"]).any()
    assert set(panel["channel"]) <= set(sample_dataset.channels.loc[sample_dataset.channels["kind"] == "sales", "channel"])
