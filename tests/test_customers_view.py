"""One view per customer across channels: hand-worked examples."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.customers.view import (
    channel_overlap,
    cross_channel_summary,
    customer_orders,
    customer_view,
    repeat_rate_by_channel,
    restrict_period,
)
from channelkit.errors import InputError


def order_lines() -> pd.DataFrame:
    rows = [
        # order_id, sku, order_ts, customer_id, channel, units, unit_price, status
        ("o1", "s1", "2025-01-05 10:00", "A", "tmall", 2, 10.0, "paid"),
        ("o1", "s2", "2025-01-05 10:00", "A", "tmall", 1, 5.0, "refunded"),  # returned: not net value
        ("o2", "s1", "2025-02-01 09:00", "A", "store", 1, 40.0, "paid"),
        ("o3", "s1", "2025-01-10 12:00", "B", "jd", 3, 10.0, "paid"),
        ("o4", "s1", "2025-01-11 12:00", "B", "jd", 1, 10.0, "cancelled"),  # never shipped
        ("o5", "s2", "2025-01-20 08:00", "C", "store", 1, 25.0, "refunded"),  # wholly returned
        ("o6", "s2", "2025-01-21 08:00", None, "store", 1, 25.0, "paid"),  # anonymous walk-in
        ("o7", "s1", "2025-03-01 20:00", "C", "tmall", 1, 30.0, "paid"),
        ("o8", "s2", "2025-03-01 21:00", "C", "jd", 2, 15.0, "paid"),
    ]
    frame = pd.DataFrame(rows, columns=["order_id", "sku", "order_ts", "customer_id", "channel", "units",
                                        "unit_price", "status"])
    frame["order_ts"] = pd.to_datetime(frame["order_ts"])
    return frame


def test_customer_orders_applies_status_rules():
    orders = customer_orders(order_lines())
    assert list(orders["order_id"]) == ["o1", "o2", "o3", "o7", "o8"]
    assert orders.set_index("order_id")["revenue"].to_dict() == {"o1": 20.0, "o2": 40.0, "o3": 30.0,
                                                                 "o7": 30.0, "o8": 30.0}
    gross = customer_orders(order_lines(), include_refunded=True).set_index("order_id")["revenue"]
    assert gross["o1"] == 25.0 and gross["o5"] == 25.0


def test_customer_view_across_channels():
    orders = customer_orders(order_lines())
    view = customer_view(orders, as_of="2025-03-10").set_index("customer_id")
    assert list(view.index) == ["A", "B", "C"]
    a = view.loc["A"]
    assert (a["orders"], a["revenue"], a["channels"], a["first_channel"], a["main_channel"]) == (2, 60.0, 2, "tmall",
                                                                                                   "store")
    assert a["cross_channel"] and a["aov"] == 30.0 and a["days_since_last"] == 37
    c = view.loc["C"]
    # Two orders on the same day: 2 orders, 1 purchase day; equal revenue -> main channel by name order.
    assert (c["orders"], c["purchase_days"], c["main_channel"], c["first_channel"]) == (2, 1, "jd", "tmall")
    assert not view.loc["B", "cross_channel"]
    early = customer_view(orders, as_of="2025-01-31").set_index("customer_id")
    assert list(early.index) == ["A", "B"] and early.loc["A", "orders"] == 1


def test_cross_channel_summary_shares():
    view = customer_view(customer_orders(order_lines()), as_of="2025-03-10")
    summary = cross_channel_summary(view).set_index("group")
    assert summary.loc["cross-channel", "customers"] == 2 and summary.loc["single-channel", "customers"] == 1
    assert summary.loc["cross-channel", "share_customers"] == pytest.approx(2 / 3)
    assert summary.loc["cross-channel", "share_revenue"] == pytest.approx(120 / 150)
    assert summary.loc["cross-channel", "revenue_per_customer"] == pytest.approx(60.0)
    assert summary.loc["single-channel", "aov"] == pytest.approx(30.0)


def test_channel_overlap_and_repeat_rate():
    orders = customer_orders(order_lines())
    overlap = channel_overlap(orders)
    assert overlap.loc["tmall", "tmall"] == 2 and overlap.loc["tmall", "store"] == 1
    assert overlap.loc["jd", "tmall"] == 1 and overlap.loc["jd", "store"] == 0
    rates = repeat_rate_by_channel(customer_view(orders)).set_index("first_channel")
    assert rates.loc["tmall", "customers"] == 2 and rates.loc["tmall", "repeaters"] == 2
    assert rates.loc["jd", "repeat_rate"] == 0.0


def test_restrict_period_is_inclusive_by_day():
    orders = customer_orders(order_lines())
    kept = restrict_period(orders, start="2025-01-10", end="2025-03-01")
    assert list(kept["order_id"]) == ["o2", "o3", "o7", "o8"]
    with pytest.raises(InputError, match="no purchases between"):
        restrict_period(orders, start="2026-01-01")


def test_errors_name_the_argument():
    with pytest.raises(InputError, match=r"`orders` is missing column\(s\) \['unit_price'\]"):
        customer_orders(order_lines().drop(columns="unit_price"))
    with pytest.raises(InputError, match="no paid order lines"):
        customer_orders(order_lines().assign(status="cancelled"))
    with pytest.raises(InputError, match="`as_of` must be a date.*'yesterday'"):
        customer_view(customer_orders(order_lines()), as_of="yesterday")
    with pytest.raises(InputError, match="column 'revenue' must hold non-negative numbers.*-5"):
        customer_view(customer_orders(order_lines()).assign(revenue=-5.0))


def test_customer_orders_codes_each_customer_once():
    """Customer ids come back as a categorical over the sorted ids, so engines group on integers."""
    orders = customer_orders(order_lines())
    assert isinstance(orders["customer_id"].dtype, pd.CategoricalDtype)
    assert list(orders["customer_id"].cat.categories) == ["A", "B", "C"]
    assert list(orders["customer_id"].astype(str)) == ["A", "A", "B", "C", "C"]


def test_engines_agree_on_categorical_and_plain_ids():
    """Categorical ids (with an unused category after a period cut) and plain strings give one view."""
    orders = customer_orders(order_lines())
    early = restrict_period(orders, end="2025-01-31")  # C's category stays, unused
    plain = early.assign(customer_id=early["customer_id"].astype(str))
    pd.testing.assert_frame_equal(customer_view(early, as_of="2025-03-10"), customer_view(plain, as_of="2025-03-10"))
    assert list(customer_view(early)["customer_id"]) == ["A", "B"]
    pd.testing.assert_frame_equal(channel_overlap(early), channel_overlap(plain))


def test_sorted_codes_order_ids_as_text():
    from channelkit.customers._validate import sorted_codes

    codes, ids = sorted_codes(pd.Series([10, "9", None, 9, "a", "Z", "é"], dtype=object))
    # Compared as text: "10" < "9" < "Z" < "a" < "é"; 9 and "9" are one id; missing gets -1.
    assert list(ids) == ["10", "9", "Z", "a", "é"]
    assert list(codes) == [0, 1, -1, 1, 3, 2, 4]
    unsorted = pd.Series(pd.Categorical(["b", "a", "b"], categories=["z", "b", "a"]))
    codes, ids = sorted_codes(unsorted)
    assert list(ids) == ["a", "b"] and list(codes) == [1, 0, 1]  # unused "z" dropped, codes in id order
