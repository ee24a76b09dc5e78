"""Festivals overlapping channel promotions: detection, the log-additive (LMDI) split of the joint
lift, and recovery of known festival and promotion multipliers on a synthetic panel."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.promotions import EngineOptions, evaluate_promotions, event_windows
from channelkit.promotions.baseline import Baseline, _window_errors
from channelkit.promotions.model import EffectFit, Estimate
from channelkit.promotions.overlap import festival_overlaps, log_mean, split_overlap

CHANNELS = ["a", "b", "c", "d"]
START = pd.Timestamp("2025-01-06")  # a Monday
FEST = (150, 159)  # festival: days 150-159, every channel
M_FEST = {"a": 2.0, "b": 1.5, "c": 1.3, "d": 1.2}  # channel-specific: the controls do not share a's festival lift
M_PROMO = 1.4  # the promotion on channel a


def _panel(promo: tuple[int, int], *, noise: bool = False, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """200 days of four channels (own level and weekly shape); the festival multiplies every channel,
    a promotion on ``a`` (days ``promo``) multiplies a's units by ``M_PROMO``. Returns the panel, the
    events table and the expected units: ``base`` (neither event) and ``mu`` (with both)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(START, periods=200, freq="D")
    day = np.arange(200)
    fest, on_promo = (day >= FEST[0]) & (day <= FEST[1]), (day >= promo[0]) & (day <= promo[1])
    frames, base, mu = [], {}, {}
    for i, ch in enumerate(CHANNELS):
        weekly = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 0.9]) ** (1 + 0.5 * i)
        base[ch] = (300 + 150 * i) * weekly[dates.dayofweek]
        mu[ch] = base[ch] * np.where(fest, M_FEST[ch], 1.0) * np.where(on_promo & (ch == "a"), M_PROMO, 1.0)
        units = rng.poisson(mu[ch]).astype(float) if noise else mu[ch]
        frames.append(pd.DataFrame({"date": dates, "channel": ch, "units": units, "revenue": units * 10.0,
                                    "list_value": units * 10.0, "margin": units * 4.0, "orders": np.nan}))
    f_days, p_days = dates[FEST[0]:FEST[1] + 1], dates[promo[0]:promo[1] + 1]
    events = pd.concat([pd.DataFrame({"date": f_days, "event": "fest", "kind": "festival", "channel": None}),
                        pd.DataFrame({"date": p_days, "event": "coupon", "kind": "promotion", "channel": "a",
                                      "discount": 0.1})], ignore_index=True)
    return pd.concat(frames, ignore_index=True), events, {"base": base, "mu": mu, "dates": dates}


def _evaluate(daily, events, models=("seasonal_naive",)) -> pd.DataFrame:
    engine = EngineOptions(models=models, n_windows=6, step=7)
    return evaluate_promotions(daily, events, engine=engine).set_index(["event", "channel"])


def _truth(daily: pd.DataFrame, truth: dict, promo: tuple[int, int]) -> dict:
    """True parts on channel a: the promotion's lift on its non-festival days, and the LMDI split of
    the joint lift (realised units minus the no-event expectation) on the overlap days."""
    a = daily[daily["channel"] == "a"]["units"].to_numpy()
    b = truth["base"]["a"]
    ov = np.arange(max(promo[0], FEST[0]), min(promo[1], FEST[1]) + 1)
    nf = np.setdiff1d(np.arange(promo[0], promo[1] + 1), ov)
    fest_days = np.arange(FEST[0], FEST[1] + 1)
    joint, mean = a[ov].sum() - b[ov].sum(), log_mean(a[ov].sum(), b[ov].sum())
    promo_part = mean * np.log(M_PROMO)
    return {"promotion": (M_PROMO - 1) * b[nf].sum() + promo_part,
            "festival": a[fest_days].sum() - b[fest_days].sum() - promo_part,
            "joint": joint, "overlap_promotion": promo_part, "nf": (M_PROMO - 1) * b[nf].sum()}


def test_festival_overlaps_hand_worked():
    days = lambda a, b: pd.date_range(a, b)  # noqa: E731
    events = pd.concat([
        pd.DataFrame({"date": days("2025-11-01", "2025-11-11"), "event": "double11", "kind": "festival"}),
        pd.DataFrame({"date": days("2025-11-09", "2025-11-13"), "event": "coupon", "kind": "promotion",
                      "channel": "tmall"}),
        pd.DataFrame({"date": days("2025-11-03", "2025-11-04"), "event": "flash", "kind": "promotion",
                      "channel": "jd"}),
        pd.DataFrame({"date": days("2025-12-01", "2025-12-02"), "event": "late", "kind": "promotion",
                      "channel": "jd"}),
        pd.DataFrame({"date": days("2025-11-11", "2025-11-11"), "event": "singles", "kind": "holiday"}),
    ], ignore_index=True)
    windows = event_windows(events, kinds=("promotion", "festival", "holiday"))
    ov = festival_overlaps(windows)
    named = ov.assign(festival=windows.loc[ov["festival"], "event"].to_numpy(),
                      promotion=windows.loc[ov["promotion"], "event"].to_numpy()).set_index("promotion")
    assert sorted(named.index) == ["coupon", "flash"]  # holidays do not count, "late" has no common day
    assert named.loc["coupon", "festival"] == "double11" and named.loc["coupon", "days"] == 3
    assert named.loc["coupon", "start"] == pd.Timestamp("2025-11-09") and not named.loc["coupon", "inside"]
    assert named.loc["flash", "days"] == 2 and named.loc["flash", "inside"] and named.loc["flash", "channel"] == "jd"
    assert (named["window"] == "event").all()
    post = festival_overlaps(windows, post_days=3)
    post = post[post["window"] == "post"]
    assert len(post) == 1 and windows.loc[post["promotion"].iloc[0], "event"] == "coupon"
    assert (post["start"].iloc[0], post["end"].iloc[0], post["days"].iloc[0]) == (
        pd.Timestamp("2025-11-12"), pd.Timestamp("2025-11-13"), 2)


def test_log_mean_split_hand_worked():
    # A_O = 280, CF_O = 100: m_t = 2.8 = 1.4 x 2; L = 180 / ln 2.8.
    assert log_mean(280.0, 100.0) == pytest.approx(180 / np.log(2.8))
    assert log_mean(5.0, 5.0) == 5.0
    dates = pd.date_range("2025-03-01", periods=5)
    base = Baseline(pd.DataFrame({"date": dates, "forecast": 50.0, "lo": 40.0, "hi": 60.0}), "m", 0, 0, 0, 0, 100)
    rows = pd.DataFrame({"date": dates, "units": [140.0, 140.0, 90.0, 90.0, 90.0]})
    fit = EffectFit(observed=140.0, incremental=Estimate(40.0, 4.0), counterfactual=Estimate(100.0, 4.0),
                    lift=Estimate(0.4, 0.04), post_observed=0.0, lost=Estimate(0, 0), post_change=Estimate(0, 0),
                    net=Estimate(40.0, 4.0), dispersion=1.0, n_obs=50)
    part = split_overlap(fit, rows, base, dates[:2])
    assert part.observed == 280.0 and part.counterfactual == 100.0
    assert part.promotion == pytest.approx(180 / np.log(2.8) * np.log(1.4))  # ~ 58.9 of the 180
    assert part.festival == pytest.approx(180 / np.log(2.8) * np.log(2.0))
    assert part.promotion + part.festival == pytest.approx(180.0)
    assert part.se_log_promo == pytest.approx(np.sqrt((0.04 / 1.4) ** 2 + 1 / 140))
    assert list(part.position) == [0, 1]
    # Numerical derivative of the promotion part with respect to CF_O.
    h = 1e-4
    up = log_mean(280.0, 100.0 + h) * np.log(1.4)
    down = log_mean(280.0, 100.0 - h) * np.log(1.4)
    assert part.slope == pytest.approx((up - down) / (2 * h), rel=1e-6)
    # Without backtest windows the interval falls back to sum |w| x per-day half-width.
    assert base.half_width(np.array([1.0, -2.0, 0, 0, 0])) == pytest.approx(30.0)


def test_weighted_half_width_matches_window_sums():
    rng = np.random.default_rng(3)
    err = rng.normal(0, 5, (6, 10))
    clean = np.ones((6, 10), dtype=bool)
    clean[1, 2] = False
    daily = pd.DataFrame({"date": pd.date_range("2025-01-01", periods=10), "forecast": 1.0, "lo": 0.0, "hi": 2.0})
    base = Baseline(daily, "m", 0, 0, 0, 6, 100, errors=err, clean=clean, alpha=0.05)
    from channelkit.promotions.baseline import _half_width
    ind = np.r_[np.zeros(2), np.ones(5), np.zeros(3)]
    assert base.half_width(ind) == pytest.approx(_half_width(_window_errors(err, clean, 2, 7), np.nan, 0.05)[0])
    # A weighted sum: error sum_h w_h e_h per window (window 1 scaled up for its imputed day).
    w = np.r_[0.0, 0.0, 2.0, 1.0, 1.0, np.zeros(5)]
    e = (err * w).sum(axis=1)
    e[1] = (err[1, 3] + err[1, 4]) * 4 / 2
    from scipy import stats
    assert base.half_width(w) == pytest.approx(stats.t.ppf(0.975, 6) * np.sqrt(np.mean(e ** 2)))


def test_noise_free_overlap_is_split_exactly_and_counted_once():
    promo = (146, 152)  # 4 days before the festival, 3 on festival days
    daily, events, truth = _panel(promo)
    out = _evaluate(daily, events)
    expect = _truth(daily, truth, promo)
    p, f = out.loc[("coupon", "a")], out.loc[("fest", "a")]
    assert p["overlap"] == "fest 2025-06-05..2025-06-07 (3 days)" and p["overlap_days"] == 3
    assert f["overlap"] == "coupon 2025-06-05..2025-06-07 (3 days)" and f["overlap_split"] == "log-additive"
    assert p["overlap_split"] == "log-additive" and p["note"] == "" and f["note"] == ""
    assert p["incremental_units"] == pytest.approx(expect["promotion"], rel=1e-6)
    assert f["incremental_units"] == pytest.approx(expect["festival"], rel=1e-6)
    # Nothing counted twice: both rows add up to the true lift over the union of their days.
    assert p["incremental_units"] + f["incremental_units"] == pytest.approx(
        expect["festival"] + expect["promotion"], rel=1e-9)
    assert expect["festival"] + expect["promotion"] == pytest.approx(
        expect["joint"] + expect["nf"] + (M_FEST["a"] - 1) * truth["base"]["a"][153:160].sum())
    # Lifts: the promotion's counterfactual on festival days includes the festival (and vice versa).
    assert p["lift"] == pytest.approx(p["incremental_units"] / (p["units"] - p["incremental_units"]))
    assert p["lift_high"] - p["lift_low"] == pytest.approx(  # delta method with the units observed
        (p["incremental_high"] - p["incremental_low"]) * p["units"] / p["baseline_units"] ** 2)
    # Channels without the promotion are untouched and exact.
    assert out.loc[("fest", "b"), "incremental_units"] == pytest.approx(0.5 * truth["base"]["b"][150:160].sum())
    assert out.loc[("fest", "b"), "overlap"] == "" and out.loc[("fest", "all"), "overlap_days"] == 3
    assert out.loc[("fest", "all"), "incremental_units"] == pytest.approx(out.xs("fest")["incremental_units"]
                                                                         .drop("all").sum())


def test_promotion_running_past_the_festival_end():
    """Days 157-162: three on festival days (split), three in the festival's post window, which the
    festival's dip leaves out (with the promotion's own dip days: nothing of a's post window is
    left), while the promotion's DiD counts them."""
    promo = (157, 162)
    daily, events, truth = _panel(promo)
    out = _evaluate(daily, events)
    expect = _truth(daily, truth, promo)
    p, f = out.loc[("coupon", "a")], out.loc[("fest", "a")]
    assert p["overlap"] == ("fest 2025-06-12..2025-06-14 (3 days); fest post window 2025-06-15..2025-06-17 "
                            "(3 days)") and p["overlap_days"] == 3
    assert f["overlap"] == ("coupon 2025-06-12..2025-06-14 (3 days); coupon 2025-06-15..2025-06-17 (3 days, "
                            "after it: left out of its dip)")
    assert p["incremental_units"] == pytest.approx(expect["promotion"], rel=1e-6)
    assert f["incremental_units"] == pytest.approx(expect["festival"], rel=1e-6)
    # Counted in the festival's dip, the promotion's days 160-162 would show as a negative dip.
    assert f["post_units"] == 0 and f["lost_units"] == 0
    assert out.loc[("fest", "b"), "post_units"] == pytest.approx(truth["base"]["b"][160:167].sum())


def test_promotion_inside_a_festival_reports_the_joint_effect():
    promo = (152, 155)
    daily, events, truth = _panel(promo)
    out = _evaluate(daily, events)
    p, f = out.loc[("coupon", "a")], out.loc[("fest", "a")]
    assert p["overlap_split"] == "joint" and np.isnan(p["incremental_units"]) and pd.isna(p["paid"])
    assert "every day of the promotion falls on festival days" in p["note"]
    b = truth["base"]["a"]
    joint = (truth["mu"]["a"][150:160] - b[150:160]).sum()
    assert f["overlap_split"] == "joint" and f["incremental_units"] == pytest.approx(joint, rel=1e-6)


def test_split_recovers_known_lifts_under_poisson_noise():
    """Ten noisy panels (ETS counterfactual): each row's interval should cover its true part (95%
    intervals: 9.5 of 10 expected; 8 or more with probability 0.99 if calibrated); standardised
    errors (estimate - truth) / se have mean within +-3 / sqrt(10) and none beyond 3.5."""
    promo = (146, 152)
    hits, z = {"promotion": 0, "festival": 0}, {"promotion": [], "festival": []}
    for seed in range(10):
        daily, events, truth = _panel(promo, noise=True, seed=seed)
        out = _evaluate(daily, events, models=("ets",))
        expect = _truth(daily, truth, promo)
        for key, row in (("promotion", out.loc[("coupon", "a")]), ("festival", out.loc[("fest", "a")])):
            hits[key] += row["incremental_low"] <= expect[key] <= row["incremental_high"]
            se = (row["incremental_high"] - row["incremental_low"]) / (2 * 1.959964)
            z[key].append((row["incremental_units"] - expect[key]) / se)
    for key in hits:
        assert hits[key] >= 8 and abs(np.mean(z[key])) < 3 / np.sqrt(10) and np.abs(z[key]).max() < 3.5, key
