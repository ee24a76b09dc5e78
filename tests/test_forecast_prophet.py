"""Prophet with Chinese festivals, planned regressors and silent logs (1-2 short series only)."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast.prophet import prophet_forecast, prophet_holidays


def test_holidays_have_festival_windows_from_the_calendar():
    hol = prophet_holidays("2025-01-01", "2025-12-31").set_index("holiday")
    sf = hol.loc["spring_festival"]
    assert sf["ds"] == pd.Timestamp("2025-01-29")  # Chinese New Year 2025, from the holidays package
    assert (sf["lower_window"], sf["upper_window"]) == (-21, 13)  # pre-holiday surge .. week after the pause
    d11 = hol.loc["double11"]
    assert d11["ds"] == pd.Timestamp("2025-11-11") and (d11["lower_window"], d11["upper_window"]) == (-20, 1)
    assert hol.loc["618", "ds"] == pd.Timestamp("2025-06-18") and hol.loc["double12", "upper_window"] == 0
    assert "cn_national_day" in hol.index


def _panel(n: int = 90, skus=("A",)) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    dates = pd.date_range("2025-01-01", periods=n)
    return pd.concat([pd.DataFrame({"date": dates, "sku": s, "channel": "tmall", "units": rng.poisson(0.4, n),
                                    "price": 10.0, "promo": 0}) for s in skus], ignore_index=True)


def test_prophet_forecast_is_non_negative_and_quiet(capfd, caplog):
    with caplog.at_level(logging.INFO):
        fc = prophet_forecast(_panel(), horizon=7, levels=(80,), progress=False)
    assert list(fc.columns) == ["sku", "channel", "date", "forecast", "lo_80", "hi_80", "model"]
    assert len(fc) == 7 and (fc[["forecast", "lo_80", "hi_80"]] >= 0).all().all()
    assert (fc["lo_80"] <= fc["hi_80"]).all() and fc["forecast"].mean() < 2
    out, err = capfd.readouterr()
    assert "cmdstanpy" not in out + err and not [r for r in caplog.records if r.name.startswith("cmdstanpy")]


def test_regressors_need_a_plan():
    panel = _panel(skus=("A", "B"))
    with pytest.raises(InputError, match=r"regressors \['price', 'promo'\] need their future values: pass `plan`"):
        prophet_forecast(panel, horizon=7, regressors=("price", "promo"), progress=False)
    plan = pd.DataFrame({"date": pd.date_range("2025-04-01", periods=7), "sku": "A", "channel": "tmall",
                         "price": 9.0, "promo": 1})
    with pytest.raises(InputError, match=r"`plan` has no value of regressor `price` for 7 series-date\(s\), such as "
                                         r"\[\{'sku': 'B'"):
        prophet_forecast(panel, horizon=7, regressors=("price", "promo"), plan=plan, progress=False)
    with pytest.raises(InputError, match=r"`plan` is missing column\(s\) \['promo'\]"):
        prophet_forecast(panel, horizon=7, regressors=("price", "promo"), plan=plan.drop(columns="promo"),
                         progress=False)
