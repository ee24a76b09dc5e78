"""Pooled, locally scaled split-conformal intervals (channelkit.forecast.intervals)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast import backtest as B
from channelkit.forecast import intervals as I
from channelkit.forecast import run_forecast


def _cv(errors: dict[str, list[list[float]]], *, level: float = 10.0) -> pd.DataFrame:
    """A chosen-model backtest: per series, one list of errors per window, forecast ``level``."""
    rows = []
    for uid, windows in errors.items():
        for w, errs in enumerate(windows):
            cut = pd.Timestamp("2025-01-01") + pd.Timedelta(days=10 * w)
            for k, e in enumerate(errs):
                rows.append({"unique_id": uid, "cutoff": cut, "ds": cut + pd.Timedelta(days=k + 1),
                             "y": level + e, "forecast": level})
    return pd.DataFrame(rows)


def test_conformal_bounds_order_statistics():
    z = np.arange(9, 0, -1.0)  # 1..9, unsorted on purpose
    # 80%: a = 0.1, (n+1)a = 1 -> z_(1) = 1; ceil(10 * 0.9) = 9 -> z_(9) = 9.
    assert I.conformal_bounds(z, 80) == (1.0, 9.0)
    # 50%: a = 0.25, floor(10 * 0.25) = 2 -> z_(2) = 2; ceil(10 * 0.75) = 8 -> z_(8) = 8.
    assert I.conformal_bounds(z, 50) == (2.0, 8.0)
    # 95% with 9 scores: ceil(10 * 0.975) = 10 > 9 -> capped at the largest; floor(0.25) = 0 -> the smallest.
    assert I.conformal_bounds(z, 95) == (1.0, 9.0)
    # 39 scores at 95%: (n+1)(1-a) = 39 exactly -> z_(39) (no floating-point round-up to 40).
    assert I.conformal_bounds(np.arange(1.0, 40.0), 95) == (1.0, 39.0)


def test_normalized_scores_cross_fitted_by_window():
    cv = _cv({"A": [[1, -1], [2, -2]], "B": [[0, 0], [3, 3]], "C": [[0, 0], [0, 0]]})
    errors = cv.assign(error=cv["y"] - cv["forecast"])
    scores, scale = I.normalized_scores(errors)
    # s_i = mean |e|: A (1+1+2+2)/4 = 1.5, B (0+0+3+3)/4 = 1.5, C 0.
    assert scale.to_dict() == {"A": 1.5, "B": 1.5, "C": 0.0}
    # A, window 1 scaled by window 2's mean |e| = 2 -> 0.5, -0.5; window 2 by window 1's 1 -> 2, -2.
    # B, window 1 by window 2's 3 -> 0, 0; window 2: window 1's errors are all 0 -> s_i = 1.5 -> 2, 2.
    # C has only zero errors: no scores.
    got = scores.groupby("unique_id")["score"].apply(list).to_dict()
    assert got == {"A": [0.5, -0.5, 2.0, -2.0], "B": [0.0, 0.0, 2.0, 2.0]}


def test_demand_class_adi_cutoff():
    y = {"a": [0, 0, 1, 0], "b": [1, 1, 1, 0], "c": [1, 1, 1, 1, 0], "d": [0, 0, 0]}
    frame = pd.DataFrame([{"unique_id": k, "y": v} for k, vs in y.items() for v in vs])
    # ADI = periods / non-zero periods: a 4/1 = 4, b 4/3 = 1.33 >= 1.32, c 5/4 = 1.25, d no sales (inf).
    got = I.demand_class(frame).to_dict()
    assert got == {"a": "intermittent", "b": "intermittent", "c": "smooth", "d": "intermittent"}


def test_pooled_intervals_hand_worked():
    # Both series smooth (no zero actuals); 8 scores < ceil(5 / 0.25) = 20, so the class pool and
    # the all-series pool coincide. A: scores 0.5, -0.5, 2, -2 (s = 1.5, as above).
    # B: errors [1, 3] and [-1, -3]; each window's other-window mean |e| is 2 -> 0.5, 1.5, -0.5, -1.5; s = 2.
    cv = _cv({"A": [[1, -1], [2, -2]], "B": [[1, 3], [-1, -3]]})
    fc = pd.DataFrame({"unique_id": ["A", "A", "B"], "ds": pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-01"]),
                       "forecast": [10.0, 10.0, 1.0], "scale": [1.0, 2.0, 1.0]})
    out = I.pooled_conformal_intervals(fc, cv, [50])
    # Pool sorted: -2, -1.5, -0.5, -0.5, 0.5, 0.5, 1.5, 2. 50%: floor(9 * 0.25) = 2 -> -1.5; ceil(9 * 0.75) = 7 -> 1.5.
    # A: 10 -/+ 1.5 * 1.5 = [7.75, 12.25]; on a festival day (scale 2) 10 -/+ 4.5 = [5.5, 14.5].
    # B: 1 -/+ 2 * 1.5 = [-2 -> 0, 4].
    assert out["lo_50"].tolist() == pytest.approx([7.75, 5.5, 0.0])
    assert out["hi_50"].tolist() == pytest.approx([12.25, 14.5, 4.0])


def test_classes_pool_separately_when_large_enough():
    rng = np.random.default_rng(3)
    # 40 smooth series with symmetric errors, 40 intermittent ones whose errors are mostly -1
    # (forecast 1, actual 0) with rare large positive ones: 80% needs ceil(5 / 0.1) = 50 scores per class.
    smooth = {f"s{i}": [list(rng.normal(0, 1, 5)) for _ in range(2)] for i in range(40)}
    cv = _cv(smooth)
    inter = []
    for i in range(40):
        for w in range(2):
            y = np.where(rng.random(5) < 0.8, 0.0, 5.0)
            cut = pd.Timestamp("2025-01-01") + pd.Timedelta(days=10 * w)
            days = cut + pd.to_timedelta(range(1, 6), "D")
            inter.append(pd.DataFrame({"unique_id": f"i{i}", "cutoff": cut, "ds": days, "y": y, "forecast": 1.0}))
    cv = pd.concat([cv, *inter], ignore_index=True)
    errors = cv.assign(error=cv["y"] - cv["forecast"])
    scores, _ = I.normalized_scores(errors)
    classes = I.demand_class(errors)
    q = I.pooled_quantiles(scores, classes, [80]).set_index("unique_id")
    for prefix, cls in (("s", "smooth"), ("i", "intermittent")):
        mine = scores[scores["unique_id"].str.startswith(prefix)]["score"].to_numpy()
        assert q.loc[f"{prefix}0", "qlo_80"] == I.conformal_bounds(mine, 80)[0]
        assert q.loc[f"{prefix}0", "qhi_80"] == I.conformal_bounds(mine, 80)[1]
    assert q.loc["i0", "qlo_80"] != q.loc["s0", "qlo_80"]


def test_pooled_coverage_near_nominal_on_negative_binomial_panel():
    """Oracle forecasts (the known mean) of 300 NB series with different means: pooled coverage is nominal."""
    rng = np.random.default_rng(11)
    n_series, n_win, h = 300, 3, 8  # as a weekly backtest: 24 errors per series
    mu = rng.gamma(2.0, 10.0, n_series) + 3.0
    r = 5.0  # NB size: variance mu + mu^2 / r, so relative spread differs across series
    draw = rng.negative_binomial(r, r / (r + mu[:, None]), size=(n_series, (n_win + 1) * h)).astype(float)
    uid = np.repeat([f"u{i}" for i in range(n_series)], n_win * h)
    cut = np.tile(np.repeat(pd.date_range("2025-01-05", periods=n_win, freq="8W"), h), n_series)
    cv = pd.DataFrame({"unique_id": uid, "cutoff": cut, "ds": cut, "y": draw[:, :n_win * h].ravel(),
                       "forecast": np.repeat(mu, n_win * h)})
    fc = pd.DataFrame({"unique_id": np.repeat([f"u{i}" for i in range(n_series)], h),
                       "ds": np.tile(pd.date_range("2025-07-06", periods=h, freq="W"), n_series),
                       "forecast": np.repeat(mu, h)})
    actual = draw[:, n_win * h:].ravel()
    cov = {}
    for method in ("conformal_pooled", "conformal_series"):
        out = I.add_intervals(fc, cv, [80, 95], method=method)
        cov[method] = {lv: np.mean((actual >= out[f"lo_{lv}"]) & (actual <= out[f"hi_{lv}"])) for lv in (80, 95)}
        assert out["forecast"].tolist() == fc["forecast"].tolist()  # point forecasts untouched
    assert 0.77 <= cov["conformal_pooled"][80] <= 0.83
    assert 0.935 <= cov["conformal_pooled"][95] <= 0.97
    # The per-series rule with n = 24 errors takes [min, max] at 95%, which covers a new exchangeable
    # point with probability (n - 1) / (n + 1) = 23/25 = 92% (a little more here: ties of counts).
    assert cov["conformal_series"][95] <= 0.94 < cov["conformal_pooled"][95]


def _panel(n_series: int = 6, n_days: int = 140, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-06", periods=n_days)
    return pd.concat([pd.DataFrame({"date": dates, "sku": f"S{i}", "channel": "tmall",
                                    "units": rng.poisson(1.0 + 2 * i, n_days)}) for i in range(n_series)],
                     ignore_index=True)


@pytest.fixture(scope="module")
def runs():
    kw = dict(horizon=7, n_jobs=1, progress=False, models=("seasonal_naive", "croston"), festival_adjust=False)
    panel = _panel()
    return {"pooled": run_forecast(panel, **kw), "chunked": run_forecast(panel, chunk_size=2, **kw),
            "series": run_forecast(panel, intervals="conformal_series", **kw)}


def test_engine_option_selects_method(runs):
    pooled, series = runs["pooled"], runs["series"]
    assert pooled.options["intervals"] == "conformal_pooled" and series.options["intervals"] == "conformal_series"
    # The point forecasts never depend on the interval method.
    pd.testing.assert_series_equal(pooled.forecast["forecast"], series.forecast["forecast"])
    # conformal_series is the per-series rule of backtest.conformal_intervals.
    bt = series.backtest.rename(columns={"actual": "y"})
    uid = bt["sku"]
    cv = pd.DataFrame({"unique_id": uid, "cutoff": bt["cutoff"], "ds": bt["date"], "y": bt["y"],
                       "forecast": bt["forecast"]})
    fc = series.forecast.assign(unique_id=series.forecast["sku"], ds=series.forecast["date"])
    ref = B.conformal_intervals(fc[["unique_id", "ds", "forecast"]], cv, [80, 95])
    np.testing.assert_allclose(series.forecast["hi_95"], ref["hi_95"])
    np.testing.assert_allclose(series.forecast["lo_80"], ref["lo_80"])
    assert not np.allclose(pooled.forecast["hi_95"], series.forecast["hi_95"])


def test_pooled_intervals_do_not_depend_on_chunks(runs):
    pd.testing.assert_frame_equal(runs["pooled"].forecast, runs["chunked"].forecast)


@pytest.mark.parametrize("bad", ["pooled", "", None, 3])
def test_bad_interval_method(bad):
    with pytest.raises(InputError, match=r"`intervals` must be one of \['conformal_pooled', 'conformal_series'\]"):
        run_forecast(_panel(n_series=1), horizon=7, intervals=bad, progress=False)
    with pytest.raises(InputError, match="but got"):
        I.add_intervals(pd.DataFrame(), pd.DataFrame(), [80], method=bad)
