"""Promotions: exact recovery on noise-free data, hand-worked standard errors, and recovery of the
sample generator's true promotion lifts within the estimator's own intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scipy import stats

from channelkit.data.calendar import festival_calendar
from channelkit.errors import InputError
from channelkit.promotions import (EngineOptions, channel_daily, channel_daily_from_orders, evaluate_dataset,
                                   evaluate_promotions, event_windows, festival_overlaps, fit_effect,
                                   true_festival_lifts)
from channelkit.promotions.baseline import (_half_width, _window_errors, backtest_matrices, impute_days,
                                           weekday_profile)
from channelkit.promotions.estimate import excluded_days

CHANNELS = ["a", "b", "c", "d"]


def _panel(*, lift: float = 1.5, dip: float = 0.8, noise: bool = False, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Channel x day panel with channel levels, weekly shapes, growth and common day shocks; channel
    ``a`` runs a promotion on days 70-73 (units x ``lift``, price 8 instead of 10) and dips on 74-76."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-01", periods=100, freq="D")
    t = np.arange(100) / 365.25
    shock = np.exp(rng.normal(0, 0.15, 100))  # shared by every channel
    rows, truth = [], {"baseline": 0.0, "lost": 0.0}
    for i, ch in enumerate(CHANNELS):
        weekly = np.exp(rng.normal(0, 0.2, 7))
        mu = (40 + 25 * i) * shock * weekly[dates.dayofweek] * np.exp((0.3 - 0.2 * i) * t)
        price = np.full(100, 10.0)
        if ch == "a":
            truth["baseline"] = mu[70:74].sum()
            truth["lost"] = (1 - dip) * mu[74:77].sum()
            truth["post_baseline"] = mu[74:81].sum()
            mu[70:74] *= lift
            mu[74:77] *= dip
            price[70:74] = 8.0
        units = rng.poisson(mu).astype(float) if noise else mu
        rows.append(pd.DataFrame({"date": dates, "channel": ch, "units": units, "revenue": units * price,
                                  "list_value": units * 10.0, "margin": units * (price * 0.9 - 4.0)}))
    daily = pd.concat(rows, ignore_index=True)
    daily["orders"] = np.nan
    return daily, truth


def _events() -> pd.DataFrame:
    days = pd.date_range("2025-03-12", periods=4, freq="D")
    return pd.DataFrame({"date": days, "event": "a_promo", "kind": "promotion", "channel": "a", "discount": 0.2})


def test_did_recovers_a_noise_free_lift_exactly():
    daily, truth = _panel()
    row = evaluate_promotions(daily, _events(), pre_days=56).iloc[0]
    assert row["method"] == "difference-in-differences" and row["controls"] == "b, c, d"
    assert row["baseline_units"] == pytest.approx(truth["baseline"], rel=1e-6)
    assert row["incremental_units"] == pytest.approx(0.5 * truth["baseline"], rel=1e-6)
    assert row["lift"] == pytest.approx(0.5, rel=1e-6)
    assert row["lost_units"] == pytest.approx(truth["lost"], rel=1e-5)
    assert row["post_change"] == pytest.approx(-truth["lost"] / truth["post_baseline"], rel=1e-5)
    # Money: normal margin 10 x 0.9 - 4 = 5 per unit, promo margin 8 x 0.9 - 4 = 3.2.
    units = 1.5 * truth["baseline"]
    assert row["incremental_revenue"] == pytest.approx(8 * units - 10 * truth["baseline"], rel=1e-6)
    assert row["incremental_margin"] == pytest.approx(3.2 * units - 5 * truth["baseline"], rel=1e-6)
    assert row["net_incremental_margin"] == pytest.approx(row["incremental_margin"] - 5 * truth["lost"], rel=1e-5)
    assert row["discount_cost"] == pytest.approx(2 * units, rel=1e-9)
    assert row["roi"] == pytest.approx(row["net_incremental_margin"] / row["discount_cost"])
    assert row["paid"] == (row["net_incremental_margin"] > 0)


def test_did_intervals_cover_the_truth_under_poisson_noise():
    hits = 0
    for seed in range(25):
        daily, truth = _panel(noise=True, seed=seed)
        row = evaluate_promotions(daily, _events()).iloc[0]
        hits += row["incremental_low"] <= 0.5 * truth["baseline"] <= row["incremental_high"]
    assert hits >= 21  # 95% intervals: 23.75 expected of 25; 21 or more with probability 0.99


def test_delta_method_standard_error_hand_worked():
    # Intercept-only baseline, 5 pre days and one event day: incremental = y_e - mean(pre) and
    # var = phi (mean(pre) / n + y_e) with phi = sum((y - ybar)^2 / ybar) / (n - 1).
    pre = np.array([10.0, 12, 9, 11, 13])
    y = np.r_[pre, 30.0]
    fit = fit_effect(y, np.ones((6, 1)), np.r_[[-1] * 5, 0], np.full(6, -1))
    ybar = pre.mean()
    phi = ((pre - ybar) ** 2 / ybar).sum() / 4
    assert fit.incremental.value == pytest.approx(30 - ybar)
    assert fit.counterfactual.value == pytest.approx(ybar)
    assert fit.dispersion == pytest.approx(phi)
    assert fit.incremental.se == pytest.approx(np.sqrt(phi * (ybar / 5 + 30)), rel=1e-6)


def _weekly_channel(n_days: int = 150) -> pd.DataFrame:
    """One channel, noise-free and exactly weekly-periodic (so seasonal naive forecasts it exactly)."""
    dates = pd.date_range("2025-01-01", periods=n_days, freq="D")
    units = 50.0 * np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 0.9])[dates.dayofweek]
    return pd.DataFrame({"date": dates, "channel": "b", "units": units, "revenue": units * 10.0,
                         "list_value": units * 10.0, "margin": units * 5.0, "orders": np.nan})


def test_engine_baseline_recovers_a_festival_without_controls():
    daily = _weekly_channel()
    base = daily["units"].to_numpy().copy()
    fest = daily["date"].between("2025-05-01", "2025-05-04")
    holiday = daily["date"].between("2025-04-27", "2025-04-28")  # right before: must be imputed, not learnt
    daily.loc[fest, "units"] *= 2.0
    daily.loc[holiday, "units"] *= 3.0
    events = pd.DataFrame({"date": pd.to_datetime(["2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04",
                                                   "2025-04-27", "2025-04-28"]),
                           "event": ["festival_x"] * 4 + ["holiday_y"] * 2, "kind": ["festival"] * 4 + ["holiday"] * 2,
                           "channel": None, "discount": np.nan})
    engine = EngineOptions(models=("seasonal_naive",), n_windows=4, step=7)
    out = evaluate_promotions(daily, events, engine=engine).set_index("channel")
    assert out.loc["b", "method"] == "forecast engine (seasonal_naive)"
    assert out.loc["b", "baseline_units"] == pytest.approx(base[fest.to_numpy()].sum(), rel=1e-9)
    assert out.loc["b", "incremental_units"] == pytest.approx(base[fest.to_numpy()].sum(), rel=1e-9)
    assert out.loc["b", "lost_units"] == pytest.approx(0.0, abs=1e-6)
    # The backtest of a periodic series has no error, so the window-sum interval has no width.
    assert out.loc["b", "incremental_high"] - out.loc["b", "incremental_low"] == pytest.approx(0.0, abs=1e-6)
    assert out.loc["all", "incremental_units"] == pytest.approx(out.loc["b", "incremental_units"])


def test_impute_days_hand_worked():
    # Weeks 1-2 at level 10, week 3 excluded, weeks 4-5 at level 20; Monday..Sunday profile w.
    dates = pd.date_range("2024-01-01", periods=35, freq="D")  # a Monday
    w = np.array([0.5, 1.0, 1.0, 1.0, 1.0, 1.5, 1.0])
    level = np.r_[np.full(14, 10.0), np.full(7, 99.0), np.full(14, 20.0)]
    units = pd.Series(level * w[dates.dayofweek], index=dates)
    clean = pd.Series(np.r_[np.ones(14), np.zeros(7), np.ones(14)].astype(bool), index=dates)
    assert weekday_profile(units, clean) == pytest.approx(w / w.mean())
    filled = impute_days(units, clean)
    t = np.arange(14, 21)  # linear in time between day 13 (level 10) and day 21 (level 20)
    expected = (10 + 10 * (t - 13) / 8) * (w / w.mean())[dates[14:21].dayofweek] * w.mean()
    assert filled.iloc[14:21].to_numpy() == pytest.approx(expected)
    assert filled[clean].equals(units[clean])


def test_window_sum_interval_from_backtest_errors():
    # Four backtest windows of 3 days; day errors actual - forecast chosen by hand.
    cutoffs = pd.to_datetime(["2025-01-01", "2025-01-08", "2025-01-15", "2025-01-22"])
    errs = [[1.0, 2.0, -1.0], [-2.0, 0.0, 1.0], [3.0, 1.0, 2.0], [0.0, -1.0, -1.0]]
    rows = [{"cutoff": c, "date": c + pd.Timedelta(days=h + 1), "actual": 10.0 + e[h], "forecast": 10.0}
            for c, e in zip(cutoffs, errs) for h in range(3)]
    bt = pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # any row order
    imputed = pd.Series(False, index=pd.date_range("2024-12-01", "2025-02-28"))
    sums = _window_errors(*backtest_matrices(bt, imputed), 0, 3)
    assert sums.tolist() == [2.0, -1.0, 6.0, -2.0]
    half, n = _half_width(sums, np.nan, 0.05)
    assert n == 4 and half == pytest.approx(stats.t.ppf(0.975, 4) * np.sqrt((4 + 1 + 36 + 4) / 4))
    # An imputed day counts for nothing and the clean days are scaled up to the span ...
    imputed[pd.Timestamp("2025-01-02")] = True
    assert _window_errors(*backtest_matrices(bt, imputed), 0, 3)[0] == pytest.approx((2.0 - 1.0) * 3 / 2)
    assert _window_errors(*backtest_matrices(bt, imputed), 1, 3)[0] == pytest.approx(2.0 - 1.0)  # all clean
    # ... and a window less than half clean is dropped; under three windows the fallback is used.
    imputed[pd.Timestamp("2025-01-03")] = True
    assert len(_window_errors(*backtest_matrices(bt, imputed), 0, 3)) == 3
    assert _half_width(sums[:2], 7.5, 0.05) == (7.5, 0)


def test_true_festival_lifts_hand_worked():
    # double11 2024: pre-sale from 2024-10-22 (ramp k/n over n pre-sale days), peak 2024-11-11.
    cal = festival_calendar("2024-10-01", "2024-11-30")
    d11 = cal[cal["event"] == "double11"]
    presale = d11[d11["phase"] == "presale"]
    n, k = len(presale), 3
    day_k = presale["date"].iloc[k - 1]
    neutral = {ev: {ph: 1.0 for ph in cal.loc[cal["event"] == ev, "phase"]} for ev in cal["event"].unique()}
    truth = {"start": "2024-10-01", "end": "2024-11-30", "festival_channel_multipliers": {"tmall": neutral},
             "festival_discounts": [{"event": "double11", "year": 2024, "channel": "tmall", "discount": 0.2,
                                     "start": str(presale["date"].min().date()), "end": "2024-11-11"}],
             "elasticity": [{"sku": "s1", "channel": "tmall", "elasticity": -2.0}]}
    truth["festival_channel_multipliers"]["tmall"]["double11"].update(presale=2.0, peak=5.0, after=1.5)
    orders = pd.DataFrame({"order_ts": [day_k, pd.Timestamp("2024-11-11 10:00"), pd.Timestamp("2024-11-20"),
                                        pd.Timestamp("2024-11-11 11:00")],
                           "channel": "tmall", "sku": "s1", "units": [4, 6, 5, 9],
                           "unit_price": [8.0, 10.0, 10.0, 8.0], "list_price": [10.0, 10.0, 10.0, 10.0],
                           "status": ["paid", "paid", "paid", "cancelled"]})
    events = d11[["date", "event", "kind"]].assign(channel=None, discount=np.nan)
    out = true_festival_lifts(orders, events, truth, post_days=7).set_index("channel")
    m_k = 2.0 ** (k / n) * 0.8 ** -2.0  # ramped multiplier times the price effect of the 20% cut
    assert out.loc["tmall", "incremental_units"] == pytest.approx(4 * (1 - 1 / m_k) + 6 * (1 - 1 / 5.0))
    assert out.loc["tmall", "post_incremental_units"] == 0.0  # 2024-11-20 is no festival day


def test_event_windows_split_occurrences():
    events = pd.DataFrame({
        "date": pd.to_datetime(["2024-11-10", "2024-11-11", "2025-11-10", "2025-11-11", "2025-03-01", "2025-03-02",
                                "2025-01-01"]),
        "event": ["double11"] * 4 + ["jd_promo"] * 2 + ["New Year"],
        "kind": ["festival"] * 4 + ["promotion"] * 2 + ["holiday"],
        "channel": [None] * 4 + ["jd", "jd"] + [None], "discount": [None] * 4 + [0.2, 0.2] + [None]})
    win = event_windows(events)
    assert win[["event", "start", "days"]].values.tolist() == [
        ["double11", pd.Timestamp("2024-11-10"), 2], ["jd_promo", pd.Timestamp("2025-03-01"), 2],
        ["double11", pd.Timestamp("2025-11-10"), 2]]
    assert win["channel"].tolist() == [None, "jd", None] and win["discount"].iloc[1] == pytest.approx(0.2)
    days = pd.date_range("2024-11-01", "2025-03-10")
    every = event_windows(events, kinds=("promotion", "festival", "holiday"))
    current = every.index[every["event"] == "jd_promo"][0]
    mask = excluded_days(every, current, post_days=2, dates=days, channels=["jd", "tmall"])
    assert mask.loc["2024-11-13", "tmall"] and not mask.loc["2024-11-14", "tmall"]  # festival + 2 post days
    assert mask.loc["2025-01-01"].all() and not mask.loc["2025-01-02"].any()  # holiday: no post window
    assert not mask.loc["2025-03-01"].any()  # the promotion itself is not excluded


@pytest.fixture(scope="module")
def sample_result(sample_dataset) -> pd.DataFrame:
    """Every promotion and festival of the small sample, evaluated once for this module."""
    return evaluate_dataset(sample_dataset)


def test_recovers_the_sample_promotion_lifts(sample_result, sample_truth):
    """Every true promotion effect is judged by the estimator's own standard error.

    Truth counts expected order lines including the 2% cancelled ones, which never count as sales
    (contract), so the target is (1 - cancel_rate) x incremental_units. With calibrated 95%
    intervals about 5% of 35 events miss: we require >= 85% coverage, standardised errors with mean
    within +-0.6 (3 / sqrt(35)) and sd in [0.7, 1.4], and no single error beyond 3.5 se.
    """
    result = sample_result
    truth = pd.DataFrame(sample_truth["promotions"])
    promos = result[result["kind"] == "promotion"]
    merged = promos.merge(truth, on=["event", "channel"], suffixes=("", "_true"), validate="one_to_one")
    assert len(merged) == len(truth) and merged["note"].eq("").all()
    keep = 1 - sample_truth["orders"]["cancel_rate"]
    target = keep * merged["incremental_units_true"]
    se = (merged["incremental_high"] - merged["incremental_low"]) / (2 * 1.959964)
    z = (merged["incremental_units"] - target) / se
    covered = ((merged["incremental_low"] <= target) & (target <= merged["incremental_high"])).mean()
    assert covered >= 0.85 and abs(z.mean()) < 0.6 and 0.7 < z.std() < 1.4 and z.abs().max() < 3.5
    lost = keep * merged["post_dip"].map(lambda d: d["lost_units"])
    z_lost = (merged["lost_units"] - lost) / ((merged["lost_high"] - merged["lost_low"]) / (2 * 1.959964))
    assert abs(z_lost.mean()) < 0.6 and z_lost.abs().max() < 3.5
    assert set(result.loc[result["note"] != "", "event"]) == {"spring_festival"}  # 2024: data start in January


def test_the_sample_has_no_overlaps_so_nothing_is_split(sample_result, sample_dataset):
    """The sample's promotions avoid festival days: no pair is found and no row carries an overlap,
    so its results are those of the plain designs (checked against the truth in the tests around)."""
    windows = event_windows(sample_dataset.events, kinds=("promotion", "festival", "holiday"))
    assert festival_overlaps(windows).empty
    assert sample_result["overlap"].eq("").all() and sample_result["overlap_split"].eq("").all()
    assert sample_result["overlap_days"].eq(0).all()


def test_recovers_the_sample_festival_lifts(sample_result, sample_dataset, sample_truth):
    """The forecasting engine's festival counterfactuals against the generator's truth.

    Truth per festival and channel is sum(units x (1 - 1/M)) over the window (see
    :mod:`channelkit.promotions.truth`), so estimate - truth = (sum units / M) - forecast: the
    engine's forecast error of a window sum plus the Poisson noise of the event days, which is what
    the t-based intervals from the backtest window sums state. Tolerance: with calibrated 95%
    intervals about 2.75 of 55 rows miss; >= 47 covered (85%) fails with probability < 0.005
    (binomial); mean standardised error within +-0.4 (3 / sqrt(55)); sd at most 1.3 (t_8 intervals
    run a little wide, so below 1 is expected) and no single error beyond 3.5 se. The generator has
    no festival dip, so the post window's true change is ~0 and judged the same way.
    """
    truth = true_festival_lifts(sample_dataset.orders, sample_dataset.events, sample_truth)
    fest = sample_result[(sample_result["kind"] == "festival") & (sample_result["channel"] != "all")]
    merged = fest.merge(truth, on=["event", "start", "channel"], suffixes=("", "_true"), validate="one_to_one")
    done = merged[merged["note"] == ""]
    assert len(merged) == 60 and len(done) == 55  # spring festival 2024 starts 19 days into the data
    assert done["method"].str.startswith("forecast engine (").all()
    half = (done["incremental_high"] - done["incremental_low"]) / 2
    z = (done["incremental_units"] - done["incremental_units_true"]) / (half / 1.959964)
    covered = (done["incremental_units_true"] - done["incremental_units"]).abs() <= half
    assert covered.sum() >= 47 and abs(z.mean()) < 0.4 and z.std() < 1.3 and z.abs().max() < 3.5
    lost_half = (done["lost_high"] - done["lost_low"]) / 2
    z_lost = (done["lost_units"] + done["post_incremental_units"]) / (lost_half / 1.959964)
    assert abs(z_lost.mean()) < 0.4 and z_lost.abs().max() < 3.5
    # The big festivals are unmistakable on the marketplaces: every interval excludes 0.
    big = done[done["channel"].isin(["tmall", "jd"]) & done["event"].isin(["618", "double11"])]
    assert len(big) == 8 and (big["incremental_low"] > 0).all()


def test_channel_daily_money_columns():
    sales = pd.DataFrame({"date": ["2025-01-01", "2025-01-01", "2025-01-03"], "sku": ["s1", "s2", "s1"],
                          "channel": ["tmall"] * 3, "units": [2.0, 1.0, 1.0], "revenue": [16.0, 20.0, 10.0],
                          "list_price": [10.0, 20.0, 10.0], "returned_units": [1.0, 0.0, 0.0],
                          "returned_revenue": [8.0, 0.0, 0.0]})
    products = pd.DataFrame({"sku": ["s1", "s2"], "unit_cost": [3.0, 5.0]})
    channels = pd.DataFrame({"channel": ["tmall"], "commission_rate": [0.05]})
    daily = channel_daily(sales, products=products, channels=channels).set_index("date")
    day = daily.loc["2025-01-01"]
    assert day["units"] == 4 and day["revenue"] == 44  # gross: 2 paid + 1 refunded + 1
    assert day["list_value"] == 3 * 10 + 20 and day["cost"] == 3 * 3 + 5
    assert day["margin"] == pytest.approx(44 * 0.95 - 14)
    assert daily.loc["2025-01-02", "units"] == 0  # a day without sales is a zero, not a gap
    assert channel_daily(sales, demand="net").set_index("date").loc["2025-01-01", "units"] == 3


def test_channel_daily_from_orders_counts_lines_and_orders():
    orders = pd.DataFrame({
        "order_id": ["o1", "o1", "o2", "o3", "o4"], "sku": ["s1", "s2", "s1", "s1", "s2"],
        "order_ts": pd.to_datetime(["2025-01-01 10:00", "2025-01-01 10:00", "2025-01-01 12:00", "2025-01-01 13:00",
                                    "2025-01-02 09:00"]),
        "channel": ["tmall"] * 5, "units": [2, 1, 1, 3, 1], "unit_price": [8.0, 20.0, 10.0, 10.0, 20.0],
        "list_price": [10.0, 20.0, 10.0, 10.0, 20.0], "status": ["paid", "paid", "refunded", "cancelled", "paid"]})
    products = pd.DataFrame({"sku": ["s1", "s2"], "unit_cost": [3.0, 5.0]})
    gross = channel_daily_from_orders(orders, products=products).set_index("date")
    day = gross.loc["2025-01-01"]
    # o1 (two lines) and o2 count; o3 was cancelled.
    assert (day["units"], day["revenue"], day["list_value"], day["orders"]) == (4, 46, 50, 2)
    assert day["cost"] == 2 * 3 + 5 + 3 and day["margin"] == 46 - 14
    net = channel_daily_from_orders(orders, demand="net").set_index("date")
    assert net.loc["2025-01-01", "units"] == 3 and net.loc["2025-01-02", "orders"] == 1


def test_errors_are_clear():
    daily, _ = _panel()
    with pytest.raises(InputError, match=r"`daily` lacks column\(s\) \['margin'\]"):
        evaluate_promotions(daily.drop(columns="margin"), _events())
    with pytest.raises(InputError, match="`level` must satisfy 0 < level < 100, but got 120"):
        evaluate_promotions(daily, _events(), level=120)
    with pytest.raises(InputError, match="`demand` must be 'gross' or 'net'"):
        channel_daily(daily.assign(sku="x"), demand="both")
    row = evaluate_promotions(daily, _events().assign(channel="zz")).iloc[0]
    assert "'zz', which has no sales" in row["note"] and np.isnan(row["incremental_units"])
    short = evaluate_promotions(daily, _events(), pre_days=21, min_pre_days=21).iloc[0]
    assert short["note"] == ""
    early = _events().assign(date=lambda e: e["date"] - pd.Timedelta(days=60))
    assert "fewer than min_pre_days=21" in evaluate_promotions(daily, early).iloc[0]["note"]
    festival = _events().assign(event="festival_x", kind="festival", channel=None)
    rows = evaluate_promotions(daily, festival, engine=EngineOptions(models=("nope",)))
    assert rows["note"].str.startswith("forecasting engine: `models` must be 'auto' or names from").all()
    assert rows["incremental_units"].isna().all() and rows["channel"].tolist() == [*CHANNELS, "all"]
