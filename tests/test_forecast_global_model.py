"""The global LightGBM candidate: lag structure, known future regressors, shapes, errors, determinism."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast import global_model as G
from channelkit.forecast import run_forecast

H = 14


def _panel(n: int = 30, periods: int = 182, promo_lift: float = 1.0, seed: int = 3) -> pd.DataFrame:
    """Daily series: level x weekly profile x (1 + lift * promo), Poisson noise; promo on ~15% of days."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=periods, freq="D")
    frames = []
    for i in range(n):
        level = rng.uniform(10, 60)
        weekly = 1 + 0.5 * np.sin(2 * np.pi * (np.arange(periods) + i) / 7)
        promo = (rng.random(periods) < 0.15).astype(float)
        y = rng.poisson(level * weekly * (1 + promo_lift * promo)).astype(float)
        frames.append(pd.DataFrame({"unique_id": f"s{i:02d}", "ds": dates, "y": y, "promo": promo}))
    return pd.concat(frames, ignore_index=True)


def _split(panel: pd.DataFrame):
    cut = panel["ds"].max() - pd.Timedelta(days=H)
    return panel[panel["ds"] <= cut], panel[panel["ds"] > cut]


def _mae(fc: pd.DataFrame, test: pd.DataFrame, col: str) -> float:
    m = fc.merge(test[["unique_id", "ds", "y"]], on=["unique_id", "ds"])
    assert len(m) == len(test)
    return float((m[col] - m["y"]).abs().mean())


def _seasonal_naive(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    last = train.groupby("unique_id").tail(7).copy()
    last["dow"] = last["ds"].dt.dayofweek
    out = test[["unique_id", "ds"]].assign(dow=test["ds"].dt.dayofweek)
    return out.merge(last[["unique_id", "dow", "y"]].rename(columns={"y": "snaive"}), on=["unique_id", "dow"])


def test_global_model_learns_the_weekly_lags_and_the_promotion_lift_from_the_plan() -> None:
    train, test = _split(_panel())
    fc = G.fit_forecast(train, h=H, freq="D", season_length=7, regressors=["promo"],
                        future=test[["unique_id", "ds", "promo"]])
    plain = G.fit_forecast(train, h=H, freq="D", season_length=7)
    snaive = _seasonal_naive(train, test)
    mae_plan, mae_plain, mae_sn = _mae(fc, test, "lgbm"), _mae(plain, test, "lgbm"), _mae(snaive, test, "snaive")
    # Measured: 5.65 with the plan, 10.44 without it, 16.37 for seasonal naive.
    assert mae_plan < 0.5 * mae_sn
    assert mae_plan < 0.6 * mae_plain
    assert mae_plain < mae_sn
    # On promotion days the forecast is about twice the non-promotion forecast (the true lift is 1.0).
    m = fc.merge(test, on=["unique_id", "ds"])
    ratio = m.loc[m["promo"] == 1, "lgbm"].sum() / m.loc[m["promo"] == 1, "y"].sum()
    assert 0.85 < ratio < 1.15


def test_cross_validation_frame_has_one_row_per_series_cutoff_and_step_and_is_deterministic() -> None:
    panel = _panel(n=6, periods=120)
    cv1 = G.cross_validate(panel, h=7, n_windows=3, step=7, freq="D", season_length=7)
    cv2 = G.cross_validate(panel, h=7, n_windows=3, step=7, freq="D", season_length=7)
    assert list(cv1.columns) == ["unique_id", "cutoff", "ds", "y", "lgbm"]
    assert len(cv1) == 6 * 3 * 7
    assert cv1["cutoff"].nunique() == 3
    assert (cv1["lgbm"] >= 0).all()
    pd.testing.assert_frame_equal(cv1, cv2)


def test_missing_plan_values_name_the_series_and_dates() -> None:
    train, test = _split(_panel(n=3, periods=60))
    future = test[["unique_id", "ds", "promo"]]
    future = future[~((future["unique_id"] == "s01") & (future["ds"] >= future["ds"].max() - pd.Timedelta(days=2)))]
    with pytest.raises(InputError, match=r"no value of \['promo'\] for 1 series, e.g. \['s01: 3 date\(s\)"):
        G.fit_forecast(train, h=H, freq="D", season_length=7, regressors=["promo"], future=future)
    with pytest.raises(InputError, match="need their planned values"):
        G.fit_forecast(train, h=H, freq="D", season_length=7, regressors=["promo"])
    with pytest.raises(InputError, match="must be numeric"):
        G.fit_forecast(train.assign(promo="yes"), h=H, freq="D", season_length=7, regressors=["promo"])


def test_engine_runs_lgbm_by_name_with_conformal_intervals() -> None:
    panel = _panel(n=8, periods=150).rename(columns={"unique_id": "sku", "ds": "date", "y": "units"})
    run = run_forecast(panel, horizon=H, models=["lgbm", "seasonal_naive"], id_cols=["sku"], selection="best", holidays="none",
                       progress=False, n_jobs=1)
    fc = run.forecast
    assert len(fc) == 8 * H and set(fc["model"]) <= {"lgbm", "seasonal_naive"}
    assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["lo_80"] <= fc["forecast"]).all()
    assert (fc["forecast"] <= fc["hi_80"]).all() and (fc["hi_80"] <= fc["hi_95"]).all()
    assert {"lgbm", "seasonal_naive"} <= set(run.backtest.columns)
    # Without a plan the promotion spikes are noise to both; the global model still wins on most series.
    assert (run.selection["model"] == "lgbm").sum() >= 5


def test_engine_passes_the_promotion_plan_to_the_global_model() -> None:
    panel = _panel(n=8, periods=150).rename(columns={"unique_id": "sku", "ds": "date", "y": "units"})
    cut = panel["date"].max() - pd.Timedelta(days=H)
    given = panel.assign(units=panel["units"].where(panel["date"] <= cut))  # future rows: the plan, no target
    kw = dict(horizon=H, models=["lgbm"], id_cols=["sku"], holidays="none", progress=False, n_jobs=1)
    with_plan = run_forecast(given, regressors=["promo"], **kw).forecast
    without = run_forecast(panel[panel["date"] <= cut], **kw).forecast
    truth = panel[panel["date"] > cut][["sku", "date", "units"]]
    mae = [float((f.merge(truth, on=["sku", "date"]).eval("forecast - units")).abs().mean()) for f in (with_plan, without)]
    assert len(with_plan) == 8 * H
    # Measured: 7.06 with the plan against 10.05 without it (8 short series: min_child_samples=50 leaves few splits).
    assert mae[0] < 0.8 * mae[1]


def test_a_model_trained_on_a_sample_of_series_forecasts_them_all_about_as_well() -> None:
    train, test = _split(_panel(n=24, periods=120))
    ids = G.training_ids(train["unique_id"], 8)
    assert list(ids) == ["s00", "s03", "s07", "s10", "s13", "s16", "s20", "s23"]
    full = G.fit_forecast(train, h=H, freq="D", season_length=7, max_train_series=None)
    sampled = G.fit_forecast(train, h=H, freq="D", season_length=7, max_train_series=8)
    assert len(sampled) == 24 * H and set(sampled["unique_id"]) == set(train["unique_id"])
    # Measured: MAE 10.28 trained on all 24 series, 10.66 on 8 of them; the sampled backtest has the same cutoffs.
    assert _mae(sampled, test, "lgbm") < 1.1 * _mae(full, test, "lgbm")
    cv = G.cross_validate(train, h=7, n_windows=2, step=7, freq="D", season_length=7, max_train_series=8)
    assert len(cv) == 24 * 2 * 7 and cv["cutoff"].nunique() == 2
    assert cv["y"].notna().all() and (cv["lgbm"] >= 0).all()
