"""Two-variant comparisons of a per-user table: conversion, revenue per user (Welch and bootstrap).

Every function takes the per-user frame first (one row per user: ``variant`` plus the metric
columns) and returns a one-row frame with the fixed columns of :data:`RESULT_COLUMNS`, so results
of several metrics concatenate into one tidy table. ``diff`` is treatment minus control;
``relative_lift`` is ``diff / mean_control`` with a delta-method interval on the log ratio.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.experiments._checks import (as_binary, as_numeric, check_alpha, check_columns, check_level,
                                           split_variants)

RESULT_COLUMNS = [
    "metric", "method", "control", "treatment", "n_control", "n_treatment", "mean_control", "mean_treatment",
    "diff", "ci_low", "ci_high", "relative_lift", "rel_ci_low", "rel_ci_high", "statistic", "p_value", "alpha",
    "significant",
]


def _row(**values: object) -> pd.DataFrame:
    return pd.DataFrame([{c: values.get(c, np.nan) for c in RESULT_COLUMNS}])


def _relative(m_c: float, m_t: float, var_c: float, var_t: float, z: float) -> tuple[float, float, float]:
    """Relative lift m_t/m_c - 1 and its delta-method interval on log(m_t/m_c)."""
    if m_c <= 0 or m_t <= 0:
        return (m_t / m_c - 1.0 if m_c else np.nan), np.nan, np.nan
    se_log = np.sqrt(var_t / m_t**2 + var_c / m_c**2)
    log_ratio = np.log(m_t / m_c)
    return m_t / m_c - 1.0, np.expm1(log_ratio - z * se_log), np.expm1(log_ratio + z * se_log)


def proportions_ztest(successes: tuple[int, int], nobs: tuple[int, int], *, alpha: float = 0.05
                      ) -> dict[str, float]:
    """Two-sided two-proportion z test of p_treatment = p_control, from counts (control first).

    z = (p_t - p_c) / sqrt(p (1 - p) (1/n_c + 1/n_t)) with the pooled p = (x_c + x_t) / (n_c + n_t)
    (the test statistic of ``statsmodels.stats.proportion.proportions_ztest``); the interval for
    p_t - p_c is the unpooled Wald interval (``confint_proportions_2indep(method="wald")``).
    """
    check_alpha(alpha)
    (x_c, x_t), (n_c, n_t) = successes, nobs
    p_c, p_t = x_c / n_c, x_t / n_t
    pooled = (x_c + x_t) / (n_c + n_t)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    z = (p_t - p_c) / se0 if se0 > 0 else 0.0
    var_c, var_t = p_c * (1 - p_c) / n_c, p_t * (1 - p_t) / n_t
    half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(var_c + var_t)
    return {"p_control": p_c, "p_treatment": p_t, "diff": p_t - p_c, "ci_low": p_t - p_c - half,
            "ci_high": p_t - p_c + half, "z": z, "p_value": 2 * stats.norm.sf(abs(z)),
            "var_control": var_c, "var_treatment": var_t}


def conversion_test(df: pd.DataFrame, *, variant_col: str = "variant", converted_col: str = "converted",
                    control: str | None = None, treatment: str | None = None, alpha: float = 0.05
                    ) -> pd.DataFrame:
    """Conversion rate of two variants with the two-proportion z test (see :func:`proportions_ztest`).

    ``converted_col`` holds 0/1 per user. Default ``alpha`` 0.05, two-sided.
    """
    check_columns(df, [variant_col, converted_col])
    control, treatment, c, t = split_variants(df, variant_col=variant_col, control=control, treatment=treatment)
    y_c, y_t = as_binary(c[converted_col], name=converted_col), as_binary(t[converted_col], name=converted_col)
    res = proportions_ztest((int(y_c.sum()), int(y_t.sum())), (len(y_c), len(y_t)), alpha=alpha)
    rel, rlo, rhi = _relative(res["p_control"], res["p_treatment"], res["var_control"], res["var_treatment"],
                              stats.norm.ppf(1 - alpha / 2))
    return _row(metric=converted_col, method="two-proportion z", control=control, treatment=treatment,
                n_control=len(y_c), n_treatment=len(y_t), mean_control=res["p_control"],
                mean_treatment=res["p_treatment"], diff=res["diff"], ci_low=res["ci_low"], ci_high=res["ci_high"],
                relative_lift=rel, rel_ci_low=rlo, rel_ci_high=rhi, statistic=res["z"], p_value=res["p_value"],
                alpha=alpha, significant=bool(res["p_value"] < alpha))


def welch_arrays(y_c: np.ndarray, y_t: np.ndarray, *, alpha: float = 0.05) -> dict[str, float]:
    """Welch's unequal-variance t test of mean(y_t) - mean(y_c) via ``scipy.stats.ttest_ind(equal_var=False)``.

    The interval uses the Welch-Satterthwaite degrees of freedom (scipy's ``confidence_interval``).
    """
    res = stats.ttest_ind(y_t, y_c, equal_var=False)
    ci = res.confidence_interval(confidence_level=1 - alpha)
    return {"mean_control": float(y_c.mean()), "mean_treatment": float(y_t.mean()),
            "diff": float(y_t.mean() - y_c.mean()), "ci_low": float(ci.low), "ci_high": float(ci.high),
            "t": float(res.statistic), "df": float(res.df), "p_value": float(res.pvalue),
            "var_control": float(y_c.var(ddof=1) / len(y_c)), "var_treatment": float(y_t.var(ddof=1) / len(y_t))}


def welch_test(df: pd.DataFrame, *, value_col: str = "revenue", variant_col: str = "variant",
               control: str | None = None, treatment: str | None = None, alpha: float = 0.05,
               method: str = "welch") -> pd.DataFrame:
    """Mean of ``value_col`` per user (e.g. revenue per user, zeros included) with Welch's t test."""
    check_columns(df, [variant_col, value_col])
    control, treatment, c, t = split_variants(df, variant_col=variant_col, control=control, treatment=treatment)
    y_c, y_t = as_numeric(c[value_col], name=value_col), as_numeric(t[value_col], name=value_col)
    check_alpha(alpha)
    res = welch_arrays(y_c, y_t, alpha=alpha)
    rel, rlo, rhi = _relative(res["mean_control"], res["mean_treatment"], res["var_control"],
                              res["var_treatment"], stats.norm.ppf(1 - alpha / 2))
    return _row(metric=value_col, method=method, control=control, treatment=treatment, n_control=len(y_c),
                n_treatment=len(y_t), mean_control=res["mean_control"], mean_treatment=res["mean_treatment"],
                diff=res["diff"], ci_low=res["ci_low"], ci_high=res["ci_high"], relative_lift=rel, rel_ci_low=rlo,
                rel_ci_high=rhi, statistic=res["t"], p_value=res["p_value"], alpha=alpha,
                significant=bool(res["p_value"] < alpha))


def _mean_diff(t: np.ndarray, c: np.ndarray, axis: int = -1) -> np.ndarray:
    return t.mean(axis=axis) - c.mean(axis=axis)


def bootstrap_test(df: pd.DataFrame, *, value_col: str = "revenue", variant_col: str = "variant",
                   control: str | None = None, treatment: str | None = None, level: float = 95,
                   n_resamples: int = 2000, ci_method: str = "percentile", seed: int = 0) -> pd.DataFrame:
    """Bootstrap interval for the difference in means, resampling users within each variant.

    Uses ``scipy.stats.bootstrap`` (independent resampling of the two samples, ``n_resamples``
    default 2000, ``ci_method`` "percentile" by default; "BCa" needs a jackknife of O(n^2) work, so
    keep it for small tests). Seeded with ``seed``. Robust to heavy-tailed revenue where the t
    approximation is doubtful; ``significant`` means the interval excludes 0 and ``p_value`` is not
    computed (NaN), nor is an interval for the relative lift.
    """
    check_level(level)
    check_columns(df, [variant_col, value_col])
    control, treatment, c, t = split_variants(df, variant_col=variant_col, control=control, treatment=treatment)
    y_c, y_t = as_numeric(c[value_col], name=value_col), as_numeric(t[value_col], name=value_col)
    batch = max(1, int(4_000_000 // max(len(y_c), len(y_t))))  # bound memory: batch x n floats per draw
    res = stats.bootstrap((y_t, y_c), _mean_diff, n_resamples=n_resamples, confidence_level=level / 100,
                          method=ci_method, vectorized=True, batch=batch, rng=np.random.default_rng(seed))
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    m_c, m_t = float(y_c.mean()), float(y_t.mean())
    return _row(metric=value_col, method=f"bootstrap ({ci_method})", control=control, treatment=treatment,
                n_control=len(y_c), n_treatment=len(y_t), mean_control=m_c, mean_treatment=m_t, diff=m_t - m_c,
                ci_low=lo, ci_high=hi, relative_lift=(m_t / m_c - 1 if m_c else np.nan), alpha=1 - level / 100, significant=bool(lo > 0 or hi < 0))
