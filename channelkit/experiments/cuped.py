"""CUPED: variance reduction with a pre-experiment covariate (Deng, Xu, Kohavi and Walker, 2013).

Y_cuped = Y - theta (X - mean(X)), theta = cov(Y, X) / var(X), estimated on both variants pooled
(randomisation makes X independent of the assignment, so the adjusted difference stays unbiased).
The variance of Y_cuped is var(Y) (1 - rho^2), rho = corr(Y, X): the share of variance removed is
rho^2, and the interval of the difference in means shrinks by about sqrt(1 - rho^2).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.experiments._checks import as_numeric, check_columns
from channelkit.experiments.compare import welch_test


def cuped_theta(y: np.ndarray, x: np.ndarray) -> float:
    """theta = cov(Y, X) / var(X) (both with ddof=1), the OLS slope of Y on X."""
    var_x = np.var(x, ddof=1)
    if var_x == 0:
        return 0.0
    return float(np.cov(y, x, ddof=1)[0, 1] / var_x)


def cuped_adjust(df: pd.DataFrame, *, value_col: str = "revenue", covariate_col: str = "pre_revenue",
                 out_col: str | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """Add the CUPED-adjusted metric ``out_col`` (default ``<value_col>_cuped``) to a copy of ``df``.

    Returns the frame and ``{"theta", "rho", "variance_reduction"}`` where variance_reduction =
    1 - var(Y_cuped) / var(Y), which equals rho^2 up to rounding.
    """
    check_columns(df, [value_col, covariate_col])
    y = as_numeric(df[value_col], name=value_col)
    x = as_numeric(df[covariate_col], name=covariate_col)
    theta = cuped_theta(y, x)
    adjusted = y - theta * (x - x.mean())
    out = df.copy()
    out[out_col or f"{value_col}_cuped"] = adjusted
    var_y = np.var(y, ddof=1)
    rho = float(np.corrcoef(y, x)[0, 1]) if np.var(x) > 0 and var_y > 0 else 0.0
    reduction = float(1 - np.var(adjusted, ddof=1) / var_y) if var_y > 0 else 0.0
    return out, {"theta": theta, "rho": rho, "variance_reduction": reduction}


def cuped_test(df: pd.DataFrame, *, value_col: str = "revenue", covariate_col: str = "pre_revenue",
               variant_col: str = "variant", control: str | None = None, treatment: str | None = None,
               alpha: float = 0.05) -> pd.DataFrame:
    """Welch's t test on the CUPED-adjusted metric; one row of ``RESULT_COLUMNS`` plus theta, rho,
    variance_reduction. ``mean_control``/``mean_treatment`` are the adjusted means (their difference is
    the variance-reduced estimate of the same effect)."""
    adjusted, info = cuped_adjust(df, value_col=value_col, covariate_col=covariate_col, out_col="_cuped")
    row = welch_test(adjusted, value_col="_cuped", variant_col=variant_col, control=control,
                     treatment=treatment, alpha=alpha, method=f"CUPED Welch (covariate {covariate_col})")
    row["metric"] = value_col
    for key, value in info.items():
        row[key] = value
    return row
