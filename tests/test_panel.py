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


def test_free_items_count_as_units_but_never_in_prices(tmp_path):
    # A9/A10: SKU-2 given away free (price 0) on 06-11 tmall beside the paid line A1 (1 @ 10);
    # on 06-13 app only free units: no price is observed there (never a price of 0).
    free = ("A9,SKU-2,2025-06-11 11:00:00,C2,tmall,2,0,10,paid\n"
            "A10,SKU-2,2025-06-13 11:00:00,C2,app,1,0,0,paid\n")
    panel = daily_sales(load_dataset(write_dataset(tmp_path, orders=CSV["orders"] + free)))
    cell = _row(panel, "2025-06-11", "SKU-2", "tmall")
    assert (cell["units"], cell["free_units"], cell["revenue"]) == (3.0, 2.0, 10.0)
    assert (cell["price"], cell["list_price"], cell["discount"]) == (10.0, 10.0, 0.0)
    only_free = _row(panel, "2025-06-13", "SKU-2", "app")
    assert (only_free["units"], only_free["free_units"]) == (1.0, 1.0)
    assert pd.isna(only_free["price"]) and pd.isna(only_free["discount"])
    weekly = daily_sales(load_dataset(write_dataset(tmp_path / "w", orders=CSV["orders"] + free)), freq="W")
    week = _row(weekly, "2025-06-09", "SKU-2", "app")  # A5 (4 @ 8) + A10 (1 free)
    assert (week["units"], week["free_units"], week["price"]) == (5.0, 1.0, 8.0)


def test_sku_level_promotion_events_flag_only_their_sku(tmp_path):
    # A mailer for SKU-2 on 06-11 in every channel; SKU-1 on 06-11 keeps its own flag (A1 @ 18 of 20: 10% off).
    events = ("date,event,kind,channel,sku,mailer\n"
              "2025-06-11,mailer_w24,promotion,,SKU-2,true\n"
              "2025-06-12,app_flash_sale,promotion,app,,\n")
    ds = load_dataset(write_dataset(tmp_path, events=events))
    assert ds.events["mailer"].iloc[0] and "sku" in ds.events and ds.events["sku"].isna().iloc[1]
    panel = daily_sales(ds)
    assert _row(panel, "2025-06-11", "SKU-2", "tmall")["promo"]  # full price, flagged by the mailer
    assert _row(panel, "2025-06-12", "SKU-1", "app")["promo"]  # the channel-wide event still covers every SKU
    without = daily_sales(load_dataset(write_dataset(tmp_path / "plain")))
    assert not _row(without, "2025-06-11", "SKU-2", "tmall")["promo"]  # the same cell without the mailer
