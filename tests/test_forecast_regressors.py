"""Known future regressors: a promotion plan moves the forecast by the promotion's learned lift."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.cli import main
from channelkit.errors import InputError
from channelkit.forecast import forecast, run_forecast
from channelkit.forecast.regression import RegressionThen
from statsforecast.models import AutoETS

LIFT = 15.0
WEEKLY = np.array([1.0, 0.9, 0.9, 1.0, 1.1, 1.6, 1.5])


def _promo_panel(days: int = 200, horizon: int = 14, seed: int = 6) -> pd.DataFrame:
    """History of Poisson(20 * weekday) + 15 on promotion days; then ``horizon`` plan rows, units empty."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-06", periods=days + horizon)
    rows = []
    for sku in ("A", "B"):
        promo = (rng.random(len(dates)) < 0.2).astype(float)
        promo[days:] = [1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0][:horizon]
        units = rng.poisson(20 * WEEKLY[dates.dayofweek]) + LIFT * promo
        units[days:] = np.nan
        rows.append(pd.DataFrame({"date": dates, "sku": sku, "channel": "shop", "units": units, "promo": promo}))
    return pd.concat(rows, ignore_index=True)


def test_regression_then_recovers_a_regressor_coefficient_exactly_on_noiseless_data():
    # y = 50 + 8 x with x a 0/1 plan: least squares gives 8, ETS sees a constant 50.
    x = np.tile([0.0, 1.0, 0.0, 0.0, 1.0], 12)
    y = 50 + 8 * x
    fc = RegressionThen(AutoETS(model="ANN"), period=None, use_exog=True).forecast(
        y, h=3, X=x[:, None], X_future=np.array([[1.0], [0.0], [1.0]]))
    np.testing.assert_allclose(fc["mean"], [58.0, 50.0, 58.0], atol=1e-6)


def test_a_promotion_plan_lifts_the_planned_days():
    panel = _promo_panel()
    kw = dict(horizon=14, n_jobs=1, progress=False, models=("ets",), regressors=["promo"], holidays="none")
    run = run_forecast(panel, **kw)
    assert run.notes["regressors"] == ["promo"]
    no_plan = panel.assign(promo=np.where(panel["units"].isna(), 0.0, panel["promo"]))
    base = forecast(no_plan, **kw)
    lift = (run.forecast["forecast"] - base["forecast"]).to_numpy()
    planned = run.forecast.merge(panel, on=["sku", "channel", "date"])["promo"].to_numpy()
    assert len(run.forecast) == 28 and run.forecast["date"].min() == pd.Timestamp("2025-07-25")
    np.testing.assert_allclose(lift[planned == 0], 0.0, atol=1e-9)
    assert np.abs(lift[planned == 1] - LIFT).max() < 3  # the learned lift, from ~40 promotion days


def test_a_missing_plan_value_names_the_series_and_dates():
    panel = _promo_panel()
    gap = (panel["sku"] == "B") & panel["date"].isin(pd.to_datetime(["2025-07-27", "2025-07-28"]))
    panel.loc[gap, "promo"] = np.nan
    with pytest.raises(InputError, match=r"need a planned value on every forecast date, but 1 series lack some "
                                         r"\(sku, channel: B/shop: 2025-07-27, 2025-07-28\)"):
        forecast(panel, horizon=14, n_jobs=1, progress=False, models=("ets",), regressors=["promo"])
    with pytest.raises(InputError, match=r"missing column\(s\) \['price'\]"):
        forecast(panel, horizon=14, regressors=["promo", "price"])


def test_forecast_command_takes_regressors_and_says_which_calendar(tmp_path, capsys):
    src, out = tmp_path / "plan.csv", tmp_path / "fc.csv"
    _promo_panel().to_csv(src, index=False)
    code = main(["forecast", "--panel", str(src), "--horizon", "14", "--models", "ets", "--n-jobs", "1",
                 "--regressors", "promo", "--holidays", "US", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "calendar: US; regressors: promo" in printed and "wrote 28 rows (2 series)" in printed
    fc = pd.read_csv(out, parse_dates=["date"])
    planned = fc.merge(_promo_panel(), on=["sku", "channel", "date"])
    on, off = planned.loc[planned["promo"] == 1, "forecast"].mean(), planned.loc[planned["promo"] == 0, "forecast"].mean()
    assert on - off > 8


def test_day_of_week_and_yearly_terms_continue_a_noiseless_pattern():
    # y = 20 + 5 on every 7th day (t mod 7 = 5) + 8 sin(2 pi t / 365.25) over two years: the regression
    # removes weekday and yearly parts, ETS sees a constant 20, the forecast continues both patterns.
    t = np.arange(800.0)
    wave = 8 * np.sin(2 * np.pi * t / 365.25)
    y = 20 + 5 * (t % 7 == 5) + wave
    model = RegressionThen(AutoETS(model="ANN"), period=365.25, n_harmonics=2, min_cycles=2.0, season_dummies=7)
    fc = model.forecast(y, h=7)["mean"]
    tf = np.arange(800.0, 807.0)
    np.testing.assert_allclose(fc, 20 + 5 * (tf % 7 == 5) + 8 * np.sin(2 * np.pi * tf / 365.25), atol=1e-4)
