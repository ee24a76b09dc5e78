"""A deterministic A/B test with a known true effect, for the notebook, the docs and the tests.

Each user has a pre-period spend X (lognormal, zero for a share of users) and a latent buying
propensity shared by the pre-period and the test period, which makes X predictive of the test
revenue (what CUPED uses). Conversion is Bernoulli; a converted user's revenue is lognormal (heavy
right tail). The treatment multiplies the conversion rate by ``1 + conversion_lift`` and a converted
user's expected order value by ``1 + value_lift``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from channelkit.errors import InputError


def simulate_ab_test(n_users: int = 20_000, *, baseline_rate: float = 0.05, conversion_lift: float = 0.10,
                     order_value: float = 200.0, value_lift: float = 0.0, value_sigma: float = 1.0,
                     n_days: int = 14, start: str = "2025-06-02", treatment_share: float = 0.5,
                     seed: int = 11) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-user table ``user_id, date, variant, converted, revenue, pre_revenue`` and the truth.

    ``user_id`` values are pseudonymous (``U0000001``). Defaults: 20,000 users enrolled evenly over
    14 days from 2025-06-02, half treated, 5% baseline conversion, +10% relative conversion lift, mean
    order value 200 with a lognormal sigma of 1.0. The truth dict holds the expected conversion
    rates, revenue per user and their differences (``true_conversion_diff``,
    ``true_revenue_per_user_diff``).
    """
    if not 0 < baseline_rate < 1 or not 0 < baseline_rate * (1 + conversion_lift) < 1:
        raise InputError(f"`baseline_rate` and `conversion_lift` must keep rates in (0, 1), but got "
                         f"{baseline_rate!r} and {conversion_lift!r}")
    if n_users < 4 or not 0 < treatment_share < 1:
        raise InputError(f"`n_users` must be >= 4 and 0 < treatment_share < 1, but got {n_users!r}, "
                         f"{treatment_share!r}")
    rng = np.random.default_rng(seed)
    treated = rng.random(n_users) < treatment_share
    # Latent propensity on the logit scale, calibrated so the average rate is baseline_rate, and a
    # persistent per-user basket size: both carry over from the pre-period to the test.
    base_p = _calibrated_rates(rng.normal(0.0, 1.5, n_users), baseline_rate)
    p = np.clip(np.where(treated, base_p * (1 + conversion_lift), base_p), 0.0, 1.0)
    converted = rng.random(n_users) < p
    user_sigma = value_sigma * np.sqrt(0.5)  # half of the log-variance of an order value is the user's
    user_level = rng.normal(np.log(order_value) - value_sigma**2 / 2, user_sigma, n_users)
    order_noise = np.sqrt(value_sigma**2 - user_sigma**2)
    value = np.exp(user_level + rng.normal(0.0, order_noise, n_users)) * np.where(treated, 1 + value_lift, 1.0)
    revenue = np.where(converted, value, 0.0)
    # Pre-period: four test-lengths of history, Poisson orders at the user's untreated rate.
    pre_orders = rng.poisson(4 * base_p)
    draws = np.exp(np.repeat(user_level, pre_orders) + rng.normal(0.0, order_noise, int(pre_orders.sum())))
    pre_revenue = np.bincount(np.repeat(np.arange(n_users), pre_orders), weights=draws, minlength=n_users)
    days = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.integers(0, n_days, n_users)), unit="D")
    frame = pd.DataFrame({
        "user_id": [f"U{i:07d}" for i in range(1, n_users + 1)], "date": days,
        "variant": np.where(treated, "treatment", "control"), "converted": converted.astype(int),
        "revenue": np.round(revenue, 2), "pre_revenue": np.round(pre_revenue, 2)})
    rate_t = baseline_rate * (1 + conversion_lift)
    truth = {"control_rate": baseline_rate, "treatment_rate": rate_t,
             "true_conversion_diff": rate_t - baseline_rate,
             "control_revenue_per_user": baseline_rate * order_value,
             "treatment_revenue_per_user": rate_t * order_value * (1 + value_lift),
             "true_revenue_per_user_diff": rate_t * order_value * (1 + value_lift) - baseline_rate * order_value}
    return frame, truth


def _calibrated_rates(latent: np.ndarray, mean_rate: float) -> np.ndarray:
    """p_i = expit(a + latent_i) with the intercept a chosen so that mean(p_i) = mean_rate exactly."""
    lo, hi = -30.0, 30.0
    for _ in range(100):  # bisection: mean(expit(a + latent)) increases in a
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if special.expit(mid + latent).mean() < mean_rate else (lo, mid)
    return special.expit((lo + hi) / 2 + latent)
