"""Selection rules (combination, shrinkage, best) and `auto` finding the yearly season."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast import run_forecast
from channelkit.forecast import selection as S


def _cv(rows: list[tuple[str, float, dict[str, float]]]) -> pd.DataFrame:
    return pd.DataFrame([{"unique_id": u, "cutoff": pd.Timestamp("2025-01-01"), "y": y, **m} for u, y, m in rows])


def test_combination_worked_example():
    # The module doc's example: actuals [10, 12]; a = [9, 13] (MAE 1), b = [12, 12] (MAE 1), c = [6, 6] (MAE 5).
    cv = _cv([("s", 10.0, {"a": 9.0, "b": 12.0, "c": 6.0}), ("s", 12.0, {"a": 13.0, "b": 12.0, "c": 6.0})])
    w = S.weights(cv, ["a", "b", "c"], selection="combo", top_k=2)
    assert w.loc["s"].tolist() == [0.5, 0.5, 0.0]
    np.testing.assert_allclose(S.combine(cv, w), [10.5, 12.5])
    desc = S.describe(w).iloc[0]
    assert desc["model"] == "combo" and desc["members"] == "a+b"
    # top_k = 1 keeps the first of the tied best; top_k = 3 takes all three: (9+12+6)/3 = 9, (13+12+6)/3.
    assert S.weights(cv, ["a", "b", "c"], selection="combo", top_k=1).loc["s"].tolist() == [1.0, 0.0, 0.0]
    np.testing.assert_allclose(S.combine(cv, S.weights(cv, ["a", "b", "c"], top_k=3)), [9.0, 31 / 3])


def test_combination_skips_a_member_without_forecast_and_the_ensemble():
    cv = _cv([("s", 10.0, {"a": 9.0, "b": np.nan, "ensemble": 10.0})])
    w = S.weights(cv, ["a", "b", "ensemble"], selection="combo", top_k=3)
    assert w.loc["s"].tolist() == [1.0, 0.0, 0.0]  # b never forecast, ensemble is never a member


def test_shrinkage_worked_example():
    # One window; MAE per series (a, b): s1 (1, 3), s2 (4, 2), s3 (1.1, 1.0).
    # Relative errors r = MAE / mean: s1 (0.5, 1.5), s2 (4/3, 2/3), s3 (1.1/1.05, 1/1.05).
    # Pooled R_a = 0.9603, R_b = 1.0397. Shrunk s = (1 r + 2 R) / 3:
    # s3: a = (1.0476 + 1.9206) / 3 = 0.9894 < b = (0.9524 + 2.0794) / 3 = 1.0106 -> a (best alone picks b).
    cv = _cv([("s1", 10.0, {"a": 11.0, "b": 13.0}), ("s2", 10.0, {"a": 14.0, "b": 12.0}),
              ("s3", 10.0, {"a": 11.1, "b": 11.0})])
    scores = S.shrunk_scores(S.backtest_mae(cv, ["a", "b"]), 1)
    assert scores.loc["s3", "a"] == pytest.approx((1.1 / 1.05 + 2 * (0.5 + 4 / 3 + 1.1 / 1.05) / 3) / 3)
    shrink = S.describe(S.weights(cv, ["a", "b"], selection="shrink", n_windows=1)).set_index("unique_id")["model"]
    best = S.describe(S.weights(cv, ["a", "b"], selection="best")).set_index("unique_id")["model"]
    assert shrink.to_dict() == {"s1": "a", "s2": "b", "s3": "a"}
    assert best.to_dict() == {"s1": "a", "s2": "b", "s3": "b"}


def test_selection_errors():
    with pytest.raises(InputError, match=r"`selection` must be one of \['combo', 'shrink', 'best'\], but got 'vote'"):
        S.check_selection("vote", 3)
    with pytest.raises(InputError, match="`top_k` must be an integer >= 1, but got 0"):
        S.check_selection("combo", 0)


def _yearly_panel(freq: str, periods: int, seed: int = 3) -> pd.DataFrame:
    """Series whose only pattern is a strong yearly wave (no weekly cycle): level 100, amplitude 60."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=periods, freq=freq)
    days = (dates - dates[0]).days.to_numpy()
    rows = []
    for i, sku in enumerate(("A", "B", "C")):
        mean = 100 + 60 * np.sin(2 * np.pi * days / 365.25 + i)
        rows.append(pd.DataFrame({"date": dates, "sku": sku, "channel": "shop", "units": rng.normal(mean, 3)}))
    return pd.concat(rows, ignore_index=True)


# Daily: only the yearly model sees the wave (the others' seasons are weekly), so it halves their error
# and the single-best rule picks it for every series. Weekly: seasonal naive and ETS with the 52-week
# season see the wave too; the yearly model (its 25 harmonics averaged over three years) just beats them
# on the pooled backtest, and a noisy series may still prefer seasonal naive alone.
@pytest.mark.parametrize("freq,periods,horizon,factor", [("D", 3 * 365, 28, 0.5), ("W-MON", 156, 13, 1.0)])
def test_auto_finds_the_yearly_season(freq, periods, horizon, factor):
    panel = _yearly_panel(freq, periods)
    run = run_forecast(panel, horizon=horizon, n_jobs=1, progress=False, holidays="none")
    assert "mstl_fourier" in run.options["models"]
    sel = run.selection.set_index("sku")
    # Every combination holds the yearly model, and the single-best rule picks it for every series.
    assert all("mstl_fourier" in m.split("+") for m in sel["members"])
    best = run_forecast(panel, horizon=horizon, n_jobs=1, progress=False, holidays="none", selection="best")
    if freq == "D":
        assert set(best.selection["model"]) == {"mstl_fourier"}
    bt = best.backtest
    mae = {m: (bt[m] - bt["actual"]).abs().mean() for m in ("mstl_fourier", "ets", "seasonal_naive")}
    assert mae["mstl_fourier"] < factor * min(mae["ets"], mae["seasonal_naive"])
    assert (bt["forecast"] - bt["actual"]).abs().mean() < 6  # noise sd 3: mean |e| about 2.4
