"""The festival calendar fits the market: auto-detection, country codes, custom events, no 618 abroad."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast import calendars as C
from channelkit.forecast import festivals as F
from channelkit.forecast import run_forecast
from channelkit.forecast.frames import prepare_panel


def _panel(peak: float, *, seed: int = 5, start: str = "2023-01-02", days: int = 730) -> pd.DataFrame:
    """Two series of Poisson(20) with Double 11 and 618 selling ``peak`` times a normal day."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days)
    festive = ((dates.month == 11) & (dates.day == 11)) | ((dates.month == 6) & (dates.day == 18))
    lam = np.where(festive, 20 * peak, 20.0)
    return pd.concat([pd.DataFrame({"date": dates, "sku": s, "channel": "web", "units": rng.poisson(lam)})
                      for s in ("A", "B")], ignore_index=True)


def test_auto_detects_the_chinese_market_only_where_its_festivals_peak():
    for peak, market in ((4.0, "CN"), (1.0, "none")):
        data = prepare_panel(_panel(peak)).data
        assert C.detect_market(data, "D") == market
        assert C.resolve("auto", None, data, "D").name == market


def test_a_country_code_gives_its_public_holidays_and_no_chinese_festivals():
    days = C.Calendar("US").days(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31"))
    july4 = days[days["date"] == "2024-07-04"]
    assert july4["event"].tolist() == ["Independence Day"] and july4["offset"].tolist() == [0]
    assert not days["event"].isin(["618", "double11", "double12", "spring_festival"]).any()
    keys = F.calendar_keys(pd.Timestamp("2024-06-01"), pd.Timestamp("2024-11-30"), "D", C.Calendar("US"))
    assert "Independence Day+0" in set(keys) and not any("618" in k or "double11" in k for k in keys)
    cn = F.calendar_keys(pd.Timestamp("2024-11-11"), pd.Timestamp("2024-11-11"), "D", C.CN)
    assert cn.tolist() == ["double11+0"]
    assert F.calendar_keys(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31"), "D", C.NONE).empty


def test_custom_events_from_a_window_frame_and_from_an_events_table():
    table = pd.DataFrame({"date": ["2024-03-01", "2024-03-02", "2024-03-03", "2024-05-01", "2024-03-02"],
                          "event": ["brand_day", "brand_day", "brand_day", "brand_day", "spring_promo"],
                          "kind": ["festival", "festival", "festival", "festival", "promotion"]})
    ev = C.events_frame(table)  # two runs of brand_day; the promotion row is not a festival
    assert ev.to_dict("list") == {"event": ["brand_day", "brand_day"],
                                  "start": [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-05-01")],
                                  "end": [pd.Timestamp("2024-03-03"), pd.Timestamp("2024-05-01")]}
    cal = C.Calendar("none", ev)
    assert cal.name == "1 custom event"
    keys = F.calendar_keys(pd.Timestamp("2024-02-28"), pd.Timestamp("2024-05-02"), "D", cal)
    assert keys.to_dict() == {pd.Timestamp("2024-03-01"): "brand_day+0", pd.Timestamp("2024-03-02"): "brand_day+1",
                              pd.Timestamp("2024-03-03"): "brand_day+2", pd.Timestamp("2024-05-01"): "brand_day+0"}
    assert C.Calendar("US", ev).name == "US + 1 custom event"
    with pytest.raises(InputError, match="`events` rows must have end >= start"):
        C.events_frame(pd.DataFrame({"event": ["x"], "start": ["2024-03-05"], "end": ["2024-03-01"]}))


def test_holidays_option_errors():
    assert C.check_holidays("us") == "US" and C.check_holidays("None") == "none"
    with pytest.raises(InputError, match=r"`holidays` must be 'auto', 'CN', 'none' or a country code .* got 'XX'"):
        C.check_holidays("XX")


def test_a_panel_without_chinese_festivals_is_forecast_as_if_unadjusted():
    # Issue 14: the 618 window applied to non-Chinese data inflated the intervals. With the default
    # calendar (auto -> none here) every number equals the run without festival adjustment.
    panel = _panel(1.0, days=400)
    kw = dict(horizon=14, n_jobs=1, progress=False, models=("seasonal_naive", "ets"))
    auto, off = run_forecast(panel, **kw), run_forecast(panel, festival_adjust=False, **kw)
    assert auto.options["holidays"] == "none" and auto.notes["calendar"] == "none"
    pd.testing.assert_frame_equal(auto.forecast, off.forecast)
    forced = run_forecast(panel, holidays="CN", **kw)
    assert forced.options["holidays"] == "CN" and forced.notes["calendar"] == "CN"
