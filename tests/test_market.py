"""The shop's market: holiday calendars by country code, the shop's own events, the time zone."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from channelkit.data.coerce import to_datetime
from channelkit.data.market import (channel_events, festival_names, load_market_dataset, market_calendar,
                                    own_festivals)
from channelkit.errors import ConfigError
from minimal_data import write_dataset


def test_cn_calendar_has_the_shopping_festivals_and_us_has_none():
    cn = market_calendar("2025-11-01", "2025-12-31", holidays="CN")
    assert {"double11", "double12"} <= set(festival_names(cn))
    peak = cn[(cn["event"] == "double11") & (cn["offset"] == 0)]
    assert peak["date"].tolist() == [pd.Timestamp("2025-11-11")]
    us = market_calendar("2025-11-01", "2025-12-31", holidays="US")
    assert festival_names(us) == []
    assert set(us["date"]) == {pd.Timestamp("2025-11-11"), pd.Timestamp("2025-11-27"), pd.Timestamp("2025-12-25")}
    assert {"Veterans Day", "Thanksgiving Day", "Christmas Day"} <= set(us["event"])
    assert market_calendar("2025-11-01", "2025-12-31", holidays="none").empty


def test_shop_events_join_any_calendar():
    events = pd.DataFrame({"date": pd.to_datetime(["2025-07-03", "2025-07-04", "2025-07-05", "2025-07-04"]),
                           "event": ["summer_sale"] * 3 + ["coupon_day"],
                           "kind": ["festival"] * 3 + ["promotion"], "channel": [None, None, None, "store_01"]})
    cal = market_calendar("2025-07-01", "2025-07-31", holidays="none", events=events)
    assert cal["event"].tolist() == ["summer_sale"] * 3  # promotions are not calendar events
    assert cal["offset"].tolist() == [-2, -1, 0] and set(cal["source"]) == {"events"}
    us = market_calendar("2025-07-01", "2025-07-31", holidays="US", events=events)
    assert "Independence Day" in set(us["event"]) and festival_names(us) == ["summer_sale"]
    with pytest.raises(ConfigError, match="holidays must be 'CN', another country code .* but got 'Narnia'"):
        market_calendar("2025-07-01", "2025-07-31", holidays="Narnia")


def test_time_zone_of_aware_timestamps(tmp_path):
    text = pd.Series(["2025-06-11T02:00:00Z", "2025-06-11T23:30:00Z"])
    assert to_datetime(text)[0].tolist()[0] == pd.Timestamp("2025-06-11 10:00:00")  # Asia/Shanghai by default
    folder = write_dataset(tmp_path)
    orders = (folder / "orders.csv").read_text()
    (folder / "orders.csv").write_text(re.sub(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)", r"\1T\2Z", orders))
    ny = load_market_dataset(folder, timezone="America/New_York").orders
    sh = load_market_dataset(folder, timezone="Asia/Shanghai").orders
    assert (sh["order_ts"] - ny["order_ts"]).dt.total_seconds().unique().tolist() == [12 * 3600.0]
    with pytest.raises(ConfigError, match="timezone must be an IANA time zone"):
        load_market_dataset(folder, timezone="Shanghai")


def test_channel_events_add_the_calendar_and_leave_product_rows_out():
    events = pd.DataFrame({"date": pd.to_datetime(["2025-11-11", "2025-11-20", "2025-11-21"]),
                           "event": ["double11", "store_sale", "mailer_w47"],
                           "kind": ["festival", "promotion", "promotion"], "channel": [None, "store_01", None],
                           "sku": [None, None, "SKU-1"], "discount": [None, 0.2, 0.1]})
    out = channel_events(events, "2025-11-01", "2025-11-30", holidays="US")
    assert out.attrs["sku_events"] == 1 and "mailer_w47" not in set(out["event"])
    assert set(out["event"]) == {"double11", "store_sale", "Veterans Day", "Thanksgiving Day"}
    cn = channel_events(events, "2025-11-01", "2025-11-30", holidays="CN")
    assert (cn["event"] == "double11").sum() == 12  # 11-01..11-12 in range: the shop's 11-11 + 11 calendar days
    assert channel_events(None, "2025-11-01", "2025-11-30", holidays="none").empty


def test_own_festivals_are_only_those_the_calendar_lacks():
    events = pd.DataFrame({"date": pd.to_datetime(["2025-11-11", "2025-07-03", "2025-07-04", "2025-07-05"]),
                           "event": ["double11", "summer_sale", "summer_sale", "coupon"],
                           "kind": ["festival", "festival", "festival", "promotion"]})
    cn = own_festivals(events, holidays="CN")
    assert cn["event"].tolist() == ["summer_sale", "summer_sale"]  # double11 is China's calendar already
    us = own_festivals(events, holidays="US")
    assert sorted(set(us["event"])) == ["double11", "summer_sale"] and len(us) == 3
    assert own_festivals(events[events["kind"] == "promotion"], holidays="US") is None
