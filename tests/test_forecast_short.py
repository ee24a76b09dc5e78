"""Series too short to backtest: non-seasonal models by demand pattern, counted in the run's notes."""
from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from statsforecast.models import TSB, AutoETS, AutoTheta

from channelkit.forecast import run_forecast
from channelkit.forecast import short as SH


def test_routes_by_length_and_demand_interval():
    assert SH.route(np.array([1.0, 2, 3])) == SH.MEAN  # fewer than 7 periods
    assert SH.route(np.array([5.0, 4, 6, 5, 0, 7, 5])) == SH.SMOOTH  # ADI 7/6 < 1.32
    assert SH.route(np.array([0.0, 3, 0, 0, 2, 0, 0])) == SH.INTERMITTENT  # ADI 7/2 = 3.5


def test_short_series_get_models_and_the_run_says_how_many():
    rng = np.random.default_rng(9)
    end = pd.Timestamp("2025-06-30")
    long = pd.date_range(end=end, periods=120)
    smooth = rng.poisson(12, 20).astype(float)
    sparse = np.zeros(20)
    sparse[[2, 9, 15]] = [3.0, 1.0, 2.0]
    panel = pd.concat([
        pd.DataFrame({"date": long, "sku": "OLD", "channel": "a", "units": rng.poisson(8, 120)}),
        pd.DataFrame({"date": pd.date_range(end=end, periods=20), "sku": "NEW1", "channel": "a", "units": smooth}),
        pd.DataFrame({"date": pd.date_range(end=end, periods=20), "sku": "NEW2", "channel": "a", "units": sparse}),
    ])
    run = run_forecast(panel, horizon=7, n_jobs=1, progress=False, models=("seasonal_naive", "ets"), holidays="none")
    fc = run.forecast.set_index("sku")
    assert fc.loc["NEW1", "model"].unique().tolist() == ["short_history:ets+theta"]
    assert fc.loc["NEW2", "model"].unique().tolist() == ["short_history:tsb"]
    expected = (AutoETS(model="ANN").forecast(smooth, h=7)["mean"]
                + AutoTheta(season_length=1).forecast(smooth, h=7)["mean"]) / 2
    np.testing.assert_allclose(fc.loc["NEW1", "forecast"], expected, rtol=1e-6)
    np.testing.assert_allclose(fc.loc["NEW2", "forecast"], TSB(alpha_d=0.1, alpha_p=0.1).forecast(sparse, h=7)["mean"])
    assert (fc.loc["NEW2", "forecast"] < 0.5).all() and (fc.loc["NEW2", "lo_80"] == 0).all()
    notes = run.notes
    assert notes["short_history"] == 2 and notes["all_zero"] == 0
    assert notes["short_history_models"] == {"short_history:ets+theta": 1, "short_history:tsb": 1}
    assert notes["short_history_reason"].startswith("fewer than 35 periods")  # 7 + 7*2 + 14 minimum training


def test_statsforecast_warnings_go_to_the_log(caplog):
    # A weekly series shorter than a season: statsforecast's seasonal naive warns for each fit.
    rng = np.random.default_rng(2)
    panel = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=60, freq="W-MON"), "sku": "A", "channel": "a",
                          "units": rng.poisson(5, 60)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning reaching the caller fails the test
        with caplog.at_level(logging.INFO, logger="channelkit.forecast"):
            run_forecast(panel, horizon=8, n_jobs=1, progress=False, models=("seasonal_naive", "ets"))
    assert any("shorter than season_length (52)" in r.getMessage() for r in caplog.records)


def test_the_command_prints_the_calendar_and_the_fallbacks():
    from types import SimpleNamespace

    from channelkit.commands.forecast import summary

    run = SimpleNamespace(notes={"calendar": "none", "regressors": [], "all_zero": 1, "short_history": 3,
                                 "short_history_models": {"short_history:tsb": 1, "short_history:ets+theta": 2},
                                 "short_history_reason": "fewer than 35 periods (...)"})
    assert summary(run) == ["calendar: none",
                            "3 series too short to backtest (fewer than 35 periods (...)): 2 ets+theta, 1 tsb",
                            "1 series without sales: forecast 0"]
