"""Double machine learning (DML) elasticities for prices set in response to expected demand.

Partially linear model (Chernozhukov et al. 2018, "Double/debiased machine learning")::

    log q_gt = theta_g * log p_gt + g(X_gt) + alpha_g + u_gt
    log p_gt =                      m(X_gt) + a_g     + v_gt

``X`` holds what a pricing manager sees when setting a price: calendar (day of week, yearly
season, trend, festival phases, public holidays), channel, the panel's control columns and the
series' recent demand (mean log units over the previous 7 and 28 periods, lagged so it is known
before the price is set). The series effects ``alpha_g``/``a_g`` are removed by demeaning
within series; ``g`` and ``m`` are learned by a scikit-learn regressor (default
HistGradientBoostingRegressor) with cross-fitting over folds of dates (all series of a date in
one fold, so tomorrow's demand never trains today's nuisance). The final stage is the
residual-on-residual regression per group, ``theta_g = sum v~ u~ / sum v~^2`` (EconML's
LinearDML with group dummies as ``X``), with the sandwich variance
``sum v~^2 e^2 / (sum v~^2)^2``.

The outcome is log units on periods with sales, so the comparison partner is
``estimate_elasticities(method="ols")`` on the same controls (:func:`compare_with_plain`).
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from channelkit.elasticity.design import calendar_controls, prepare_panel
from channelkit.elasticity.estimate import check_options
from channelkit.errors import InputError


def _lagged_demand(y: np.ndarray, mask: np.ndarray, window: int) -> np.ndarray:
    """Mean log1p units of each series over the previous ``window`` periods (NaN at the start)."""
    v = np.where(mask, np.log1p(y), np.nan)
    frame = pd.DataFrame(v.T)
    return frame.shift(1).rolling(window, min_periods=1).mean().to_numpy().T


def _features(arrays, controls: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Long feature frame for the fitted cells (positive sales) and the cells' (g, t) indices."""
    cal = calendar_controls(arrays.dates)
    use = arrays.mask & (arrays.y > 0)
    g, t = np.nonzero(use)
    feats = cal.iloc[t].reset_index(drop=True)
    chans = pd.get_dummies(arrays.keys["channel"].iloc[g].reset_index(drop=True), prefix="ch", dtype=float)
    feats = pd.concat([feats, chans], axis=1)
    for w in (7, 28):  # as deviations from the series mean: the series effects are removed anyway
        lag = _lagged_demand(arrays.y, arrays.mask, w)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lag = lag - np.nanmean(lag, axis=1, keepdims=True)
        feats[f"demand_{w}"] = lag[g, t]
    for j, name in enumerate(controls):
        feats[f"ctrl_{name}"] = arrays.controls[j][g, t]
    return feats, np.column_stack([g, t])


def _cross_fit(model: RegressorMixin, X: pd.DataFrame, target: np.ndarray, folds: np.ndarray) -> np.ndarray:
    pred = np.empty(len(target))
    for f in np.unique(folds):
        test = folds == f
        fitted = clone(model).fit(X[~test], target[~test])
        pred[test] = fitted.predict(X[test])
    return pred


def dml_elasticities(
    panel: pd.DataFrame,
    *,
    by: Sequence[str] = ("sku", "channel"),
    controls: Sequence[str] = (),
    learner: RegressorMixin | None = None,
    n_folds: int = 5,
    level: float = 0.90,
    min_obs: int = 20,
    seed: int = 0,
    n_threads: int | None = None,
) -> pd.DataFrame:
    """DML elasticity per SKU x channel (or per SKU), one row per group (model above).

    ``learner`` is any scikit-learn regressor (default ``HistGradientBoostingRegressor(max_iter=100,
    random_state=seed)``), used for both nuisances. Columns: ``sku``, ``channel`` (empty when
    pooled), ``elasticity``, ``se``, ``ci_low``, ``ci_high``, ``n_obs``, ``status``, ``method``
    (``dml``). Groups with fewer than ``min_obs`` selling periods or no residual price variation
    are ``not_identified``. ``n_threads`` caps the learner's OpenMP/BLAS threads (None: library
    default; 1 on a busy shared machine avoids oversubscription, which can slow boosting 10x).
    """
    by = check_options(by=by, method="ols", time_effects="date", level=level)
    if n_folds < 2:
        raise InputError(f"`n_folds` must be at least 2, but got {n_folds}")
    arrays = prepare_panel(panel, controls=controls)
    X, gt = _features(arrays, controls)
    g, t = gt[:, 0], gt[:, 1]
    ly, lp = np.log(arrays.y[g, t]), arrays.logp[g, t]
    ly_dm = ly - pd.Series(ly).groupby(g).transform("mean").to_numpy()
    lp_dm = lp - pd.Series(lp).groupby(g).transform("mean").to_numpy()
    rng = np.random.default_rng(seed)
    fold_of_date = rng.permutation(len(arrays.dates)) % n_folds
    folds = fold_of_date[t]
    model = learner if learner is not None else HistGradientBoostingRegressor(max_iter=100, random_state=seed)
    with threadpool_limits(limits=n_threads):
        u = ly_dm - _cross_fit(model, X, ly_dm, folds)
        v = lp_dm - _cross_fit(model, X, lp_dm, folds)
    group = pd.MultiIndex.from_frame(arrays.keys[list(by)].iloc[g].astype(str)).factorize()
    codes, index = group
    svv = np.bincount(codes, v * v)
    svu = np.bincount(codes, v * u)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = svu / svv
        resid = u - theta[codes] * v
        n = np.bincount(codes)
        var = np.bincount(codes, (v * resid) ** 2) / svv ** 2 * n / np.maximum(n - 2, 1)
    ok = (n >= min_obs) & (svv > 1e-10)
    z = stats.norm.ppf(0.5 + level / 2)
    out = pd.DataFrame(list(index), columns=list(by))
    if "channel" not in out:
        out["channel"] = ""
    out["elasticity"] = np.where(ok, theta, np.nan)
    out["se"] = np.where(ok, np.sqrt(var), np.nan)
    out["ci_low"], out["ci_high"] = out["elasticity"] - z * out["se"], out["elasticity"] + z * out["se"]
    out["n_obs"], out["status"], out["method"] = n, np.where(ok, "ok", "not_identified"), "dml"
    return out[["sku", "channel", "elasticity", "se", "ci_low", "ci_high", "n_obs", "status", "method"]]


def compare_with_plain(plain: pd.DataFrame, dml: pd.DataFrame) -> pd.DataFrame:
    """Side by side: ``elasticity_plain``, ``elasticity_dml``, their difference and a z statistic.

    ``z = (dml - plain) / sqrt(se_plain^2 + se_dml^2)`` treats the two as independent (they are
    not: both use the same data, so |z| > 2 is a strong hint that prices respond to demand signals
    the plain model's controls miss, not a formal test).
    """
    cols = ["sku", "channel", "elasticity", "se"]
    m = plain[cols].merge(dml[cols], on=["sku", "channel"], suffixes=("_plain", "_dml"))
    m["difference"] = m["elasticity_dml"] - m["elasticity_plain"]
    m["z"] = m["difference"] / np.sqrt(m["se_plain"] ** 2 + m["se_dml"] ** 2)
    return m
