"""The MMM engine: recovery on data of its own form, lift-test calibration, determinism, errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.mmm import channel_summary, decomposition, diagnostics, fit_mmm, response_curves
from channelkit.mmm.bootstrap import block_weights
from channelkit.mmm.outputs import channel_metrics, contributions
from channelkit.mmm.transforms import MediaParams


def _engine_form(seed: int, *, n: int = 156, collinear: bool = False) -> tuple[pd.DataFrame, dict]:
    """Weekly sales = baseline + sum of beta * Hill(geometric adstock(spend)) + noise (sd 1 % of sales).

    Each channel is off air in a quarter of the weeks (flighting): without periods near zero spend,
    ROAS (against no spend at all) is an extrapolation the data cannot check."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    base = 50_000 + 40 * t + 6_000 * np.sin(2 * np.pi * t / 52.18)
    spend = {c: 3_000 * np.exp(rng.normal(0, 0.7, n)) * (rng.random(n) > 0.25) for c in ("a", "b", "c")}
    if collinear:
        spend["b"] = 0.5 * spend["a"]
    params = {"a": MediaParams("geometric", (0.4,), 1.0, 1.0), "b": MediaParams("geometric", (0.4,), 1.0, 1.0),
              "c": MediaParams("geometric", (0.1,), 0.7, 1.5)}
    roas = {"a": 2.0, "b": 0.8, "c": 1.5}
    y, contrib = base.copy(), {}
    for ch, m in params.items():
        h = m.features(spend[ch], 5)
        contrib[ch] = roas[ch] * spend[ch].sum() / h.sum() * h
        y += contrib[ch]
    y += rng.normal(0, 0.01 * y.mean(), n)
    frame = pd.DataFrame({"date": pd.date_range("2023-01-02", periods=n, freq="7D"), "sales": y, **spend})
    return frame, {"roas": roas, "contrib": contrib}


def test_recovers_roas_of_its_own_form_and_decomposes_exactly() -> None:
    frame, truth = _engine_form(1)
    res = fit_mmm(frame, spend_cols=["a", "b", "c"], n_boot=8, festivals=False, n_jobs=1)
    summary = channel_summary(res).set_index("channel")
    assert (summary["status"] == "ok").all()
    for ch in ("a", "c"):  # the large effects: within 10 %
        assert summary.loc[ch, "roas"] == pytest.approx(truth["roas"][ch], rel=0.1), ch
    # the small one (contribution ~3x the noise sd per week) is looser, and its interval says so
    assert summary.loc["b", "roas"] == pytest.approx(truth["roas"]["b"], rel=0.4)
    assert summary.loc["b", "roas_hi"] - summary.loc["b", "roas_lo"] > 2 * (
        summary.loc["a", "roas_hi"] - summary.loc["a", "roas_lo"]) * truth["roas"]["b"] / truth["roas"]["a"]
    assert (summary["roas_lo"] <= summary["roas_hi"]).all()
    wide = decomposition(res).pivot(index="date", columns="component", values="value")
    assert np.allclose(wide.sum(axis=1).to_numpy(), frame["sales"].to_numpy(), rtol=0, atol=1e-6)
    assert np.allclose(wide["a"].sum(), contributions(res, res.point)[0])


def test_same_seed_same_result_whatever_the_workers() -> None:
    frame, _ = _engine_form(2, n=80)
    one = channel_summary(fit_mmm(frame, spend_cols=["a", "b", "c"], n_boot=4, seed=3, festivals=False, n_jobs=1))
    two = channel_summary(fit_mmm(frame, spend_cols=["a", "b", "c"], n_boot=4, seed=3, festivals=False, n_jobs=2))
    pd.testing.assert_frame_equal(one, two)


def test_lift_test_identifies_collinear_channels() -> None:
    """b's spend is always half of a's: the data only see a + b. A lift test on a pins it, and b follows."""
    frame, truth = _engine_form(3, collinear=True)
    blind = channel_summary(fit_mmm(frame, spend_cols=["a", "b", "c"], n_boot=0, festivals=False, n_jobs=1))
    blind = blind.set_index("channel")
    assert list(blind.loc[["a", "b"], "status"]) == ["not_identifiable"] * 2
    assert blind.loc[["a", "b"], "roas"].isna().all() and blind.loc["c", "status"] == "ok"
    weeks = slice(40, 60)
    lift = truth["contrib"]["a"][weeks].sum()
    tests = pd.DataFrame({"channel": ["a"], "start": [frame["date"].iloc[40]], "end": [frame["date"].iloc[59]],
                          "lift": [lift], "se": [0.03 * lift]})
    res = fit_mmm(frame, spend_cols=["a", "b", "c"], lift_tests=tests, n_boot=0, festivals=False, n_jobs=1)
    calibrated = channel_summary(res).set_index("channel")
    assert list(calibrated["status"]) == ["ok"] * 3
    assert calibrated.loc["a", "roas"] == pytest.approx(truth["roas"]["a"], rel=0.1)
    assert calibrated.loc["b", "roas"] == pytest.approx(truth["roas"]["b"], rel=0.25)


def test_block_weights() -> None:
    w = block_weights(100, 10, np.random.default_rng(0))
    assert w.sum() == 100 and (w >= 0).all() and (w == np.round(w)).all()
    assert np.array_equal(w, block_weights(100, 10, np.random.default_rng(0)))


def test_bad_input_raises_clear_errors() -> None:
    frame, _ = _engine_form(4, n=60)
    with pytest.raises(InputError, match="`level` must satisfy 0 < level < 100 .* got 120"):
        fit_mmm(frame, spend_cols=["a"], level=120, n_boot=0)
    with pytest.raises(InputError, match=r"spend column \['zz'\] not in the panel"):
        fit_mmm(frame, spend_cols=["zz"], n_boot=0)
    bad = frame.assign(a=frame["a"] * np.where(np.arange(60) == 5, -1, 1))
    with pytest.raises(InputError, match="spend column 'a' has negative values on"):
        fit_mmm(bad, spend_cols=["a"], n_boot=0)
    with pytest.raises(InputError, match="repeats dates"):
        fit_mmm(pd.concat([frame, frame.head(1)]), spend_cols=["a"], n_boot=0)
    with pytest.raises(InputError, match="misses periods"):
        fit_mmm(frame.drop(index=[7]), spend_cols=["a"], n_boot=0)
    tests = pd.DataFrame({"channel": ["x"], "start": ["2023-02-01"], "end": ["2023-03-01"], "lift": [1.0], "se": [1.0]})
    with pytest.raises(InputError, match=r"lift tests name channels \['x'\] that have no spend column"):
        fit_mmm(frame, spend_cols=["a"], lift_tests=tests, n_boot=0)


def test_response_curves_and_holdout_diagnostics() -> None:
    frame, _ = _engine_form(6, n=130)
    res = fit_mmm(frame, spend_cols=["a", "b", "c"], n_boot=4, festivals=False, n_jobs=1)
    curves = response_curves(res)
    point = channel_metrics(res, res.point)  # the curves' centre line is the point fit
    for ch, g in curves.groupby("channel"):
        assert g["contribution"].iloc[0] == 0.0 and g["contribution"].is_monotonic_increasing
        at_one = g.loc[np.isclose(g["multiplier"], 1.0), "contribution"].item()
        assert at_one == pytest.approx(point.loc[ch, "contribution"], rel=1e-9)
    diag = diagnostics(res)
    assert diag["r2"] > 0.9 and diag["holdout_periods"] == 8
    # media explain the held-out weeks: far better than the same refit's baseline alone
    assert diag["holdout_wape"] < 0.5 * diag["holdout_wape_baseline_only"]
