"""Promotions: exact recovery on noise-free data, hand-worked standard errors, and recovery of the
sample generator's true promotion lifts within the estimator's own intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.promotions import (channel_daily, channel_daily_from_orders, evaluate_dataset, evaluate_promotions,
                                   event_windows, fit_effect)
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


def test_pre_period_forecast_recovers_a_festival_without_controls():
    daily, _ = _panel()
    daily = daily[daily["channel"] == "b"].copy()
    lifted = daily["date"].between("2025-03-12", "2025-03-15")
    base = daily.loc[lifted, "units"].sum()
    # Remove the shared day shocks so the local trend model is exact, then lift the festival days.
    mu = 65 * np.exp(np.random.default_rng(1).normal(0, 0.2, 7))[daily["date"].dt.dayofweek] \
        * np.exp(0.1 * np.arange(len(daily)) / 365.25)
    daily["units"] = mu
    base = mu[lifted.to_numpy()].sum()
    daily.loc[lifted, "units"] *= 2.0
    events = _events().assign(event="festival_x", kind="festival", channel=None)
    out = evaluate_promotions(daily, events).set_index("channel")
    assert out.loc["b", "method"] == "pre-period forecast"
    assert out.loc["b", "incremental_units"] == pytest.approx(base, rel=1e-6)
    assert out.loc["all", "incremental_units"] == pytest.approx(base, rel=1e-6)


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


def test_recovers_the_sample_promotion_lifts(sample_dataset, sample_truth):
    """Every true promotion effect is judged by the estimator's own standard error.

    Truth counts expected order lines including the 2% cancelled ones, which never count as sales
    (contract), so the target is (1 - cancel_rate) x incremental_units. With calibrated 95%
    intervals about 5% of 35 events miss: we require >= 85% coverage, standardised errors with mean
    within +-0.6 (3 / sqrt(35)) and sd in [0.7, 1.4], and no single error beyond 3.5 se.
    """
    result = evaluate_dataset(sample_dataset)
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
    # The festivals: every shopping festival lifts the marketplaces, with a clean comparison period.
    fest = result[(result["kind"] == "festival") & result["channel"].isin(["tmall", "jd"])
                  & result["event"].isin(["618", "double11"])]
    assert len(fest) == 8 and (fest["incremental_low"] > 0).all()
    assert set(result.loc[result["note"] != "", "event"]) == {"spring_festival"}  # 2024: data start in January


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
