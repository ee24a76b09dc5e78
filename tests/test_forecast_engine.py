"""The forecasting engine on small synthetic panels: shapes, messy data, recovery, intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast import forecast, run_forecast
from channelkit.forecast import backtest as B

WEEKLY = np.array([1.0, 0.9, 0.9, 1.0, 1.1, 1.6, 1.5])  # Mon..Sun


def _poisson_panel(n_days: int = 150, skus=("A", "B"), channels=("tmall", "jd"), seed: int = 4,
                   start: str = "2025-01-06") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=n_days)
    rows = []
    for i, sku in enumerate(skus):
        for j, ch in enumerate(channels):
            lam = (4 + 3 * i + 2 * j) * WEEKLY[dates.dayofweek]
            rows.append(pd.DataFrame({"date": dates, "sku": sku, "channel": ch, "units": rng.poisson(lam)}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def messy_run():
    """Regular series plus a new SKU, an all-zero series, gaps and returns, forecast once."""
    panel = _poisson_panel()
    end = panel["date"].max()
    new = pd.DataFrame({"date": pd.date_range(end - pd.Timedelta(days=4), end), "sku": "NEW", "channel": "tmall",
                        "units": [2, 5, 3, 4, 6]})
    dead = pd.DataFrame({"date": pd.date_range("2025-01-06", periods=60), "sku": "ZERO", "channel": "jd", "units": 0})
    panel.loc[panel.sample(frac=0.05, random_state=1).index, "units"] = -1  # returns
    panel = pd.concat([panel, new, dead], ignore_index=True)
    panel = panel.drop(panel[(panel["sku"] == "A") & (panel["date"].dt.day == 15)].index)  # gaps
    return run_forecast(panel, horizon=14, n_jobs=1, progress=False, models=("seasonal_naive", "ets", "mstl", "croston"))


def test_output_shape_and_invariants(messy_run):
    fc = messy_run.forecast
    assert list(fc.columns) == ["sku", "channel", "date", "forecast", "lo_80", "hi_80", "lo_95", "hi_95", "model"]
    assert len(fc) == 6 * 14
    assert fc["date"].min() == pd.Timestamp("2025-06-05") and fc["date"].max() == pd.Timestamp("2025-06-18")
    assert (fc["lo_95"] >= 0).all()
    assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["lo_80"] <= fc["forecast"]).all()
    assert (fc["forecast"] <= fc["hi_80"]).all() and (fc["hi_80"] <= fc["hi_95"]).all()


def test_new_sku_and_all_zero_series(messy_run):
    fc = messy_run.forecast.set_index("sku")
    assert (fc.loc["ZERO", "forecast"] == 0).all() and (fc.loc["ZERO", "hi_95"] == 0).all()
    assert set(fc.loc["ZERO", "model"]) == {"all_zero"}
    # A 5-day-old SKU: too short for any model (fewer than 7 periods), so the mean of its history,
    # intervals at least as wide as Poisson(mean). (Label changed in issue 14: was "short_history".)
    assert set(fc.loc["NEW", "model"]) == {"short_history:mean"}
    assert fc.loc["NEW", "forecast"].iloc[0] == pytest.approx(4.0)
    assert fc.loc["NEW", "hi_95"].iloc[0] >= 8  # Poisson(4) 97.5% quantile is 8


def test_backtest_and_selection_are_consistent(messy_run):
    bt, sel = messy_run.backtest, messy_run.selection
    assert bt["cutoff"].nunique() == 3 and set(bt["sku"]) == {"A", "B"}
    assert (bt["actual"] >= 0).all()  # returns clipped to zero demand
    # Default selection "combo" (issue 14; was the single best): the mean of the 3 candidates with the
    # lowest backtest MAE, ensemble excluded.
    for (sku, ch), g in bt.groupby(["sku", "channel"]):
        row = sel.set_index(["sku", "channel"]).loc[(sku, ch)]
        maes = {m: (g[m] - g["actual"]).abs().mean() for m in ("seasonal_naive", "ets", "mstl", "croston")}
        top3 = sorted(maes, key=maes.get)[:3]
        assert row["model"] == "combo" and set(row["members"].split("+")) == set(top3)
        np.testing.assert_allclose(g["forecast"], g[top3].mean(axis=1))
        assert row["mae"] == pytest.approx((g[top3].mean(axis=1) - g["actual"]).abs().mean())


def test_weekly_pattern_is_recovered():
    dates = pd.date_range("2025-01-06", periods=140)
    panel = pd.DataFrame({"date": dates, "sku": "A", "channel": "tmall", "units": 10 * WEEKLY[dates.dayofweek]})
    fc = forecast(panel, horizon=7, n_jobs=1, progress=False, models=("ets", "mstl"))
    np.testing.assert_allclose(fc["forecast"], 10 * WEEKLY[fc["date"].dt.dayofweek], atol=0.05)


def test_weekly_panel_works():
    dates = pd.date_range("2023-01-02", periods=120, freq="W-MON")
    rng = np.random.default_rng(2)
    panel = pd.DataFrame({"date": dates, "sku": "A", "channel": "jd", "units": rng.poisson(30, 120)})
    fc = forecast(panel, horizon=8, n_jobs=1, progress=False, models=("seasonal_naive", "ets", "croston"))
    assert len(fc) == 8 and (fc["date"].dt.dayofweek == 0).all()
    assert fc["date"].iloc[0] == dates[-1] + pd.Timedelta(weeks=1)
    assert 20 < fc["forecast"].mean() < 40


def test_80_percent_intervals_cover_about_80_percent_of_new_draws():
    panel = _poisson_panel(n_days=196, skus=("A", "B", "C", "D", "E"), seed=11)
    end = pd.Timestamp("2025-01-06") + pd.Timedelta(days=167)
    hist, future = panel[panel["date"] <= end], panel[panel["date"] > end]
    fc = forecast(hist, horizon=28, n_jobs=1, progress=False, models=("ets", "mstl"))
    got = fc.merge(future, on=["sku", "channel", "date"])
    covered = ((got["units"] >= got["lo_80"]) & (got["units"] <= got["hi_80"])).mean()
    assert len(got) == 280 and 0.72 <= covered <= 0.90


def test_conformal_quantiles_worked_example():
    errors = pd.DataFrame({"unique_id": "a", "error": np.arange(-4.0, 5.0)})  # -4..4, n = 9
    q = B.conformal_quantiles(errors, [80]).iloc[0]
    # a = 0.1; hi quantile level ceil(10 * 0.9) / 9 = 1 -> max 4; lo level 0 -> min -4
    assert q["qlo_80"] == -4 and q["qhi_80"] == 4
    q50 = B.conformal_quantiles(errors, [50]).iloc[0]  # ceil(10*0.75)/9 = 8/9 -> 2.0
    assert q50["qhi_50"] == pytest.approx(np.quantile(np.arange(-4.0, 5.0), 8 / 9))


def test_select_models_hand_example():
    cv = pd.DataFrame({"unique_id": ["a", "a", "b", "b", "c", "c"], "y": [1.0, 3.0, 5.0, 5.0, 1.0, 3.0],
                       "m1": [1.0, 1.0, 5.0, 6.0, 1.0, 1.0], "m2": [2.0, 2.0, np.nan, np.nan, 1.5, 2.5]})
    sel = B.select_models(cv, ["m1", "m2"]).set_index("unique_id")
    assert sel.loc["a", "model"] == "m1" and sel.loc["a", "mae"] == 1.0  # MAE 1.0 each: tie -> first
    assert sel.loc["b", "model"] == "m1" and sel.loc["b", "mae"] == 0.5  # m2 never forecast
    assert sel.loc["c", "model"] == "m2" and sel.loc["c", "mae"] == 0.5  # 0.5 against m1's 1.0


def test_argument_errors():
    panel = _poisson_panel(n_days=60, skus=("A",), channels=("tmall",))
    with pytest.raises(InputError, match=r"`levels` must satisfy 0 < level < 100, but got \[120\]"):
        forecast(panel, horizon=7, levels=(80, 120))
    with pytest.raises(InputError, match="`horizon` must be an integer >= 1, but got 0"):
        forecast(panel, horizon=0)
    with pytest.raises(InputError, match=r"`models` must be 'auto' or names from .* but got \['prophet'\]"):
        forecast(panel, horizon=7, models=("ets", "prophet"))
    with pytest.raises(InputError, match="`backend` must be 'local' or 'dask', but got 'spark'"):
        forecast(panel, horizon=7, backend="spark")
    with pytest.raises(InputError, match=r"missing column\(s\) \['store'\]"):
        forecast(panel, horizon=7, id_cols=("sku", "store"))


def test_chunked_fitting_gives_the_same_numbers():
    # Large panels are fitted a chunk of series at a time; the festival tables are shared and every
    # other step is per series, so one chunk per series must reproduce the single-chunk run exactly.
    panel = _poisson_panel(n_days=120, skus=("A", "B", "C"))
    kw = dict(horizon=7, n_jobs=1, progress=False, models=("seasonal_naive", "ets", "tsb"))
    whole, chunked = run_forecast(panel, **kw), run_forecast(panel, chunk_size=1, **kw)
    pd.testing.assert_frame_equal(whole.forecast, chunked.forecast)
    pd.testing.assert_frame_equal(whole.selection, chunked.selection)
    keys = ["sku", "channel", "cutoff", "date"]
    pd.testing.assert_frame_equal(whole.backtest.sort_values(keys).reset_index(drop=True),
                                  chunked.backtest.sort_values(keys).reset_index(drop=True))
    with pytest.raises(InputError, match="`chunk_size` must be an integer >= 1"):
        run_forecast(panel, chunk_size=0, **kw)
