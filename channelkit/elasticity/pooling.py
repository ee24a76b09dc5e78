"""Empirical-Bayes partial pooling of elasticities across the SKUs of a category and across channels.

Model (a random-effects meta-regression, as in meta-analysis)::

    e_hat_i | e_i ~ N(e_i, se_i^2)                    the per-series estimate and its standard error
    e_i ~ N(m_i, tau^2),   m_i = mu_category(i) + c_channel(i)

The prior mean ``m_i`` is a weighted least-squares fit with weights ``1 / (se_i^2 + tau^2)`` on
category and channel dummies (additive: a category level plus a channel shift). ``tau^2`` is the
Paule-Mandel estimate: the value at which the generalised Q statistic ``sum (e_hat - m)^2 /
(se^2 + tau^2)`` equals its degrees of freedom ``n - p`` (statsmodels' ``method_re="pm"`` in the
intercept-only case; a test checks the agreement). Each estimate is then shrunk towards its prior
mean by ``B_i = se_i^2 / (se_i^2 + tau^2)``::

    posterior mean = m_i + (1 - B_i) (e_hat_i - m_i)
    posterior var  = (1 - B_i) se_i^2 + B_i^2 Var(m_i)        (Morris 1983 correction for estimated m)

Thin series (large ``se``) move most; well-measured ones barely move. Rows without an estimate
(not identified) stay without one.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from channelkit.errors import InputError


def _design(frame: pd.DataFrame, group_cols: Sequence[str]) -> np.ndarray:
    """Dummy design: the first column set is full rank (one level per category), others drop one level."""
    blocks = []
    for i, col in enumerate(group_cols):
        d = pd.get_dummies(frame[col].astype(str), drop_first=i > 0, dtype=float)
        if d.shape[1]:
            blocks.append(d.to_numpy())
    if not blocks:
        return np.ones((len(frame), 1))
    return np.column_stack(blocks)


def _wls(y: np.ndarray, X: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares with weights 1/v; returns (coefficients, their covariance)."""
    w = 1.0 / v
    xtwx = X.T @ (X * w[:, None])
    cov = np.linalg.pinv(xtwx)
    return cov @ (X.T @ (w * y)), cov


def paule_mandel_tau2(y: np.ndarray, se: np.ndarray, X: np.ndarray) -> float:
    """Between-series variance ``tau^2`` at which the generalised Q equals ``n - rank(X)`` (0 if Q < n - p)."""
    dof = len(y) - np.linalg.matrix_rank(X)
    if dof <= 0:
        return 0.0

    def excess(tau2: float) -> float:
        v = se ** 2 + tau2
        beta, _ = _wls(y, X, v)
        return float(np.sum((y - X @ beta) ** 2 / v) - dof)

    if excess(0.0) <= 0:
        return 0.0
    hi = max(float(np.var(y)) * 4, 1e-6)
    while excess(hi) > 0:
        hi *= 4
    return float(optimize.brentq(excess, 0.0, hi, xtol=1e-12))


def partial_pool(
    estimates: pd.DataFrame,
    *,
    group_cols: Sequence[str] = ("category", "channel"),
    estimate_col: str = "elasticity",
    se_col: str = "se",
    level: float = 0.90,
) -> pd.DataFrame:
    """Add empirical-Bayes pooled columns to per-series ``estimates`` (model in the module docstring).

    ``group_cols`` define the prior mean (default: category level plus channel shift; pass
    ``("category",)`` to pool across SKUs only). Added columns: ``prior_mean``, ``tau``,
    ``shrinkage`` (``B_i``, the weight on the prior), ``elasticity_pooled``, ``se_pooled``,
    ``ci_low_pooled``, ``ci_high_pooled`` (``level`` interval). Returns a new frame.
    """
    missing = [c for c in (*group_cols, estimate_col, se_col) if c not in estimates.columns]
    if missing:
        raise InputError(f"`estimates` lacks the column(s) {missing}; add e.g. the products' category "
                         f"with estimates.merge(products[['sku', 'category']], on='sku')")
    if not 0 < level < 1:
        raise InputError(f"`level` must satisfy 0 < level < 1, but got {level}")
    out = estimates.copy()
    have = out[estimate_col].notna() & out[se_col].gt(0) & np.isfinite(out[se_col])
    cols = ["prior_mean", "tau", "shrinkage", "elasticity_pooled", "se_pooled", "ci_low_pooled", "ci_high_pooled"]
    for c in cols:
        out[c] = np.nan
    if have.sum() < 3:
        raise InputError(f"partial pooling needs at least 3 estimates with a standard error, but got {int(have.sum())}")
    sub = out.loc[have]
    y, se = sub[estimate_col].to_numpy(float), sub[se_col].to_numpy(float)
    X = _design(sub, group_cols)
    tau2 = paule_mandel_tau2(y, se, X)
    beta, cov = _wls(y, X, se ** 2 + tau2)
    prior = X @ beta
    var_prior = np.einsum("ij,jk,ik->i", X, cov, X)
    b = se ** 2 / (se ** 2 + tau2) if tau2 > 0 else np.ones_like(se)
    post = prior + (1 - b) * (y - prior)
    post_se = np.sqrt((1 - b) * se ** 2 + b ** 2 * var_prior)
    z = stats.norm.ppf(0.5 + level / 2)
    values = np.column_stack([prior, np.full_like(y, np.sqrt(tau2)), b, post, post_se, post - z * post_se,
                              post + z * post_se])
    out.loc[have, cols] = values
    return out
