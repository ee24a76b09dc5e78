"""The counterfactual model behind every promotion estimate: a Poisson regression with saturated
event-day indicators, and delta-method intervals for sums of expected units.

log E[y_r] = x_r' beta + sum_k delta_k 1[r is event day k] + sum_j pi_j 1[r is post day j]

One indicator per treated event day and per post-event day makes the fit reproduce those days
exactly (mu_r = y_r), so the other rows alone determine the counterfactual mu0_r = exp(x_r' beta):
the difference-in-differences comparison with control channels (day fixed effects). (Festivals
have no control channel; their counterfactual comes from the forecasting engine instead, see
:mod:`channelkit.promotions.baseline`.) Standard errors are
quasi-Poisson: the model covariance times the Pearson chi2 / (n - p) dispersion, which absorbs
over-dispersion of daily sales. For a sum S = sum_r g(mu_r) the variance is grad' V grad (delta
method); because the indicators carry the sampling noise of the event days, the interval covers
the *expected* incremental units (what a repeat of the same event would bring on average).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning
from threadpoolctl import threadpool_limits

from channelkit.errors import InputError


@dataclass(frozen=True)
class Estimate:
    """Point estimate and standard error of one quantity (units)."""

    value: float
    se: float

    def interval(self, z: float) -> tuple[float, float]:
        return self.value - z * self.se, self.value + z * self.se


@dataclass(frozen=True)
class EffectFit:
    """Sums over the event days (``incremental``, ``counterfactual``, ``lift`` = incremental /
    counterfactual) and over the post days (``lost`` = counterfactual - expected, > 0 for a dip;
    ``post_change`` = expected / counterfactual - 1), and ``net`` = incremental - lost."""

    observed: float
    incremental: Estimate
    counterfactual: Estimate
    lift: Estimate
    post_observed: float
    lost: Estimate
    post_change: Estimate
    net: Estimate
    dispersion: float
    n_obs: int


def _quadratic(grad: np.ndarray, cov: np.ndarray) -> float:
    return float(np.sqrt(max(grad @ cov @ grad, 0.0)))


def fit_effect(y: np.ndarray, base: np.ndarray, event_day: np.ndarray, post_day: np.ndarray) -> EffectFit:
    """Fit the model and return the sums of :class:`EffectFit`.

    ``y`` holds the daily counts (rows), ``base`` the design without indicators (columns of
    fixed effects, trends, ...), ``event_day``/``post_day`` the 0-based index of the treated event
    (post) day each row is, or -1. Rows with an indicator are the treated rows whose counterfactual
    is predicted.
    """
    n_ev, n_post = int(event_day.max()) + 1, int(post_day.max()) + 1
    if n_ev <= 0:
        raise InputError("the event window has no day with data for the treated series")
    ind = np.zeros((len(y), n_ev + max(n_post, 0)))
    rows = np.flatnonzero(event_day >= 0)
    ind[rows, event_day[rows]] = 1.0
    prow = np.flatnonzero(post_day >= 0)
    ind[prow, n_ev + post_day[prow]] = 1.0
    design = np.hstack([base, ind])
    # Matrices this small gain nothing from BLAS threads; on a shared machine they only add contention.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", (ConvergenceWarning, PerfectSeparationWarning, RuntimeWarning))
        res = sm.GLM(y, design, family=sm.families.Poisson()).fit(scale="X2", maxiter=100)
    beta, cov = np.asarray(res.params), np.asarray(res.cov_params())
    zeroed = design.copy()
    zeroed[:, base.shape[1]:] = 0.0
    mu, mu0 = np.exp(design @ beta), np.exp(zeroed @ beta)
    ev, po = event_day >= 0, post_day >= 0

    def total(mask: np.ndarray, sign: float) -> tuple[float, np.ndarray]:
        """sign * sum(mu - mu0) over ``mask`` and its gradient in beta."""
        value = sign * float((mu[mask] - mu0[mask]).sum())
        grad = sign * (design[mask].T @ mu[mask] - zeroed[mask].T @ mu0[mask])
        return value, grad

    inc, g_inc = total(ev, 1.0)
    lost, g_lost = total(po, -1.0)
    cf, g_cf = float(mu0[ev].sum()), zeroed[ev].T @ mu0[ev]
    post_cf, g_pcf = float(mu0[po].sum()), zeroed[po].T @ mu0[po]
    lift = inc / cf if cf > 0 else np.nan
    g_lift = (g_inc - lift * g_cf) / cf if cf > 0 else np.zeros_like(g_inc)
    change = -lost / post_cf if post_cf > 0 else np.nan
    g_change = (-g_lost - change * g_pcf) / post_cf if post_cf > 0 else np.zeros_like(g_inc)
    return EffectFit(
        observed=float(y[ev].sum()), incremental=Estimate(inc, _quadratic(g_inc, cov)),
        counterfactual=Estimate(cf, _quadratic(g_cf, cov)), lift=Estimate(lift, _quadratic(g_lift, cov)),
        post_observed=float(y[po].sum()), lost=Estimate(lost, _quadratic(g_lost, cov)),
        post_change=Estimate(change, _quadratic(g_change, cov)),
        net=Estimate(inc - lost, _quadratic(g_inc - g_lost, cov)), dispersion=float(res.scale), n_obs=len(y))


def did_design(dates: np.ndarray, channels: np.ndarray, *, reference: str, anchor: np.datetime64) -> np.ndarray:
    """Columns: a fixed effect per date; per channel other than ``reference`` an intercept, six
    day-of-week effects and a linear trend (years from ``anchor``). The date effects absorb
    everything the channels share (festivals, seasonality, marketing pushes); the channel terms keep
    each channel's own weekly shape and growth."""
    days = (dates - anchor) / np.timedelta64(1, "D")
    day_codes, day_index = np.unique(dates, return_inverse=True)
    dow = ((dates.astype("datetime64[D]").view("int64") - 4) % 7).astype(int)  # 1970-01-01 was a Thursday
    cols = [np.eye(len(day_codes))[day_index]]
    for ch in np.unique(channels):
        if ch == reference:
            continue
        is_ch = (channels == ch).astype(float)
        cols.append(is_ch[:, None])
        cols.append(is_ch[:, None] * (dow[:, None] == np.arange(1, 7)[None, :]))
        cols.append((is_ch * days / 365.25)[:, None])
    return np.hstack(cols)
