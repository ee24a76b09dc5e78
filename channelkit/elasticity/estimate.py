"""Own-price elasticities per SKU x channel, or per SKU pooled over channels, with intervals.

Model (log-log, constant elasticity)::

    log E[units_gt] = alpha_g + e * log(price_gt) + time effects + gamma' controls_gt

- ``by=("sku", "channel")``: one elasticity ``e`` per series; ``by=("sku",)``: one per SKU shared
  by its channels, each channel keeping its own level (channel fixed effects).
- Time effects: ``time_effects="date"`` (default) puts one fixed effect on every period within
  each stratum of ``time_by`` (default channel x date), absorbing day of week, yearly season,
  festivals, trend and channel-wide promotion traffic without a functional form; ``"calendar"``
  uses shared day-of-week, yearly Fourier, trend, festival-phase and holiday controls instead
  (the choice for a single series or very few series per stratum).
- ``method="ppml"`` (default): Poisson pseudo-likelihood, keeps periods without sales and is
  consistent for the elasticity of expected units (see :mod:`.design`); ``method="ols"``: least
  squares of log units on periods with sales, the classic scanner-data log-log regression, biased
  when many periods sell nothing.
- Standard errors: heteroskedasticity-robust sandwich (:func:`.solver.slope_covariance`); the
  interval is ``e +/- z_(1+level)/2 * se`` (normal).

Series that fail :func:`.design.identification` are reported with their status and no number.
"""
from __future__ import annotations

import warnings
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.elasticity.design import PanelArrays, calendar_controls, identification, prepare_panel
from channelkit.elasticity.solver import fit_fe, slope_covariance
from channelkit.errors import InputError

Method = Literal["ppml", "ols"]
TimeEffects = Literal["date", "calendar"]
RESULT_COLUMNS = ["sku", "channel", "elasticity", "se", "ci_low", "ci_high", "n_obs", "n_series", "status",
                  "method", "price_sd", "units"]


def check_options(*, by: Sequence[str], method: str, time_effects: str, level: float,
                  sku_col: str = "sku", channel_col: str = "channel") -> tuple[str, ...]:
    """Validate the shared options; returns ``by`` as a tuple."""
    by = tuple(by)
    if by not in ((sku_col, channel_col), (sku_col,)):
        raise InputError(f"`by` must be ('{sku_col}', '{channel_col}') or ('{sku_col}',), but got {by}")
    if method not in ("ppml", "ols"):
        raise InputError(f"`method` must be 'ppml' or 'ols', but got {method!r}")
    if time_effects not in ("date", "calendar"):
        raise InputError(f"`time_effects` must be 'date' or 'calendar', but got {time_effects!r}")
    if not 0 < level < 1:
        raise InputError(f"`level` must satisfy 0 < level < 1, but got {level}")
    return by


def _strata(arrays: PanelArrays, time_by: Sequence[str]) -> np.ndarray:
    """Time-stratum code per series (``time_by`` columns of the keys)."""
    missing = [c for c in time_by if c not in arrays.keys.columns]
    if missing:
        raise InputError(f"`time_by` columns {missing} are not series attributes; pass them in `series_attrs` "
                         f"(known: {list(arrays.keys.columns)})")
    if not time_by:
        return np.zeros(arrays.n_series, dtype=int)
    return pd.MultiIndex.from_frame(arrays.keys[list(time_by)].astype(str)).factorize()[0]


def _calendar_array(arrays: PanelArrays, drop: Sequence[str] = ()) -> tuple[np.ndarray, list[str]]:
    cal = calendar_controls(arrays.dates).drop(columns=list(drop), errors="ignore")
    block = np.broadcast_to(cal.to_numpy().T[:, None, :], (cal.shape[1], *arrays.y.shape))
    return block, list(cal.columns)


def fit_arrays(
    arrays: PanelArrays,
    *,
    by: Sequence[str] = ("sku", "channel"),
    method: Method = "ppml",
    time_effects: TimeEffects = "date",
    time_by: Sequence[str] = ("channel",),
    trend: bool = True,
    level: float = 0.90,
    min_obs: int = 20,
    min_positive: int = 5,
    min_price_sd: float = 0.01,
    max_iter: int = 1000,
    tol: float = 1e-8,
) -> tuple[pd.DataFrame, dict]:
    """Estimate from prepared arrays; returns the result frame and a dict of fit details.

    The details hold ``eta`` (fitted linear predictor, for offsets), ``gamma`` (shared control
    coefficients by name), ``fit`` (the :class:`.solver.FEFit`) and the per-series ``diagnostics``.
    """
    by = check_options(by=by, method=method, time_effects=time_effects, level=level)
    diag = identification(arrays, min_obs=min_obs, min_positive=min_positive, min_price_sd=min_price_sd)
    ok = diag["status"].eq("ok").to_numpy()
    strata = _strata(arrays, time_by) if time_effects == "date" else None
    if strata is not None:  # a stratum with one fitted series leaves its slope unidentified
        counts = np.bincount(strata, weights=ok.astype(float))
        lonely = ok & (counts[strata] < 2)
        diag.loc[lonely, "status"] = "not_identified"
        ok = ok & ~lonely
    family = "poisson" if method == "ppml" else "gaussian"
    mask = arrays.mask & ok[:, None]
    y = arrays.y
    if family == "gaussian":
        mask = mask & (y > 0)
        y = np.log(np.where(mask, y, 1.0))
    slope_keys = arrays.keys[list(by)].astype(str)
    slope_codes = pd.MultiIndex.from_frame(slope_keys).factorize()[0]
    slope = np.where(ok, slope_codes, -1)
    controls, names = _drop_absorbed(arrays.controls, list(arrays.control_names), mask, strata)
    if time_effects == "calendar":
        cal, cal_names = _calendar_array(arrays, drop=("trend",) if trend else ())
        controls = np.concatenate([controls, cal]) if controls.size else cal
        names += cal_names
    fit = fit_fe(y, np.nan_to_num(arrays.logp), mask, slope=_dense_codes(slope), stratum=strata,
                 controls=controls if controls.shape[0] else None, family=family, trend=trend, max_iter=max_iter, tol=tol)
    var, n_obs = slope_covariance(y, np.nan_to_num(arrays.logp), mask, fit, slope=_dense_codes(slope),
                                  stratum=strata, family=family)
    result = _result_frame(arrays, diag, by, slope, fit.eps, var, n_obs, level, method, fit.converged)
    details = {"eta": fit.eta, "gamma": dict(zip(names, fit.gamma)), "fit": fit, "diagnostics": diag,
               "mask": mask, "family": family, "strata": strata, "slope": _dense_codes(slope), "y": y,
               "controls": controls, "control_names": names}
    return result, details


def _drop_absorbed(controls: np.ndarray, names: list[str], mask: np.ndarray,
                   strata: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
    """Drop the controls that do not vary within any stratum x period cell, with a warning.

    The period effects already absorb such a control (e.g. a promotion flag that marks whole
    channel-days when the strata are channels), so it has no coefficient of its own; keeping it
    would leave the fit singular (fixest drops such variables the same way).
    """
    if strata is None or not len(names):
        return controls, names
    keep = []
    for j in range(controls.shape[0]):
        z = np.where(mask, controls[j], np.nan)
        grouped = pd.DataFrame(z).groupby(strata)
        spread = (grouped.max() - grouped.min()).to_numpy()  # NaN-skipping: only fitted cells count
        keep.append(bool(np.nan_to_num(spread).max(initial=0.0) > 1e-12))
    if not all(keep):
        dropped = [n for n, k in zip(names, keep) if not k]
        warnings.warn(f"controls {dropped} are constant within every stratum x period cell, so the period "
                      f"effects absorb them; they are dropped", UserWarning, stacklevel=3)
    return controls[np.array(keep, dtype=bool)], [n for n, k in zip(names, keep) if k]


def _dense_codes(slope: np.ndarray) -> np.ndarray:
    """Renumber the non-negative slope codes 0..S-1 in sorted order (keeps -1)."""
    out = np.full(slope.shape, -1)
    used = slope >= 0
    out[used] = pd.factorize(slope[used], sort=True)[0]
    return out


def _result_frame(arrays: PanelArrays, diag: pd.DataFrame, by: tuple[str, ...], slope: np.ndarray,
                  eps: np.ndarray, var: np.ndarray, n_obs: np.ndarray, level: float, method: str,
                  converged: bool) -> pd.DataFrame:
    """One row per slope group: estimate, se, interval, status; NaN estimates unless ``ok``."""
    sku, ch = "sku", "channel"
    frame = diag.assign(_slope=slope)
    keys = list(by)
    agg = frame.groupby(keys, sort=True).agg(
        n_obs=("n_obs", "sum"), n_series=("n_obs", "size"), units=("units", "sum"),
        price_sd=("price_sd", "max"), _slope=("_slope", "max"),
        _status=("status", lambda s: "ok" if (s == "ok").any() else s.value_counts().index[0]))
    agg = agg.reset_index()
    dense = _dense_codes(agg["_slope"].to_numpy())
    has = dense >= 0
    est = np.full(len(agg), np.nan)
    se = np.full(len(agg), np.nan)
    est[has] = eps[dense[has]]
    se[has] = np.sqrt(var[dense[has]])
    fit_obs = np.zeros(len(agg))
    fit_obs[has] = n_obs[dense[has]]
    status = agg["_status"].to_numpy(dtype=object)
    status[has & ~np.isfinite(se)] = "not_identified"
    if not converged:
        status[has] = "not_converged"
    good = status == "ok"
    z = stats.norm.ppf(0.5 + level / 2)
    out = pd.DataFrame({sku: agg[sku], ch: agg[ch] if ch in agg else ""})
    out["elasticity"] = np.where(good, est, np.nan)
    out["se"] = np.where(good, se, np.nan)
    out["ci_low"], out["ci_high"] = out["elasticity"] - z * out["se"], out["elasticity"] + z * out["se"]
    out["n_obs"] = np.where(has, fit_obs, agg["n_obs"]).astype(int)
    out["n_series"], out["status"], out["method"] = agg["n_series"], status, method
    out["price_sd"], out["units"] = agg["price_sd"], agg["units"]
    return out


def estimate_elasticities(
    panel: pd.DataFrame,
    *,
    by: Sequence[str] = ("sku", "channel"),
    controls: Sequence[str] = (),
    method: Method = "ppml",
    time_effects: TimeEffects = "date",
    time_by: Sequence[str] | None = None,
    trend: bool = True,
    level: float = 0.90,
    min_obs: int = 20,
    min_positive: int = 5,
    min_price_sd: float = 0.01,
    date_col: str = "date",
    sku_col: str = "sku",
    channel_col: str = "channel",
    units_col: str = "units",
    price_col: str = "price",
    list_price_col: str = "list_price",
) -> pd.DataFrame:
    """Own-price elasticity per SKU x channel (or per SKU), one row per group (model above).

    Columns: ``sku``, ``channel`` (empty when ``by=("sku",)``), ``elasticity``, ``se``,
    ``ci_low``/``ci_high`` (``level`` interval, default 90%), ``n_obs`` (periods in the fit),
    ``n_series``, ``status`` (``ok``, ``not_identified``, ``too_few_obs``, ``no_sales``,
    ``not_converged``), ``method``, ``price_sd`` (sd of log price), ``units`` (total).
    ``controls`` are panel columns with one shared coefficient (e.g. ``promo``, ``feature``).
    ``time_by`` names the strata of the period effects; it may name series attributes of the
    panel such as ``category``. Default ``None``: channel x category x period when the panel has
    a ``category`` column (categories have their own yearly season), else channel x period.
    ``trend`` adds a linear trend per series.
    """
    if time_by is None:
        time_by = (channel_col, "category") if "category" in panel.columns else (channel_col,)
    check_options(by=by, method=method, time_effects=time_effects, level=level, sku_col=sku_col,
                  channel_col=channel_col)
    attrs = [c for c in time_by if c not in (sku_col, channel_col)]
    arrays = prepare_panel(panel, controls=controls, date_col=date_col, sku_col=sku_col, channel_col=channel_col,
                           units_col=units_col, price_col=price_col, list_price_col=list_price_col,
                           series_attrs=attrs)
    time_by = tuple("channel" if c == channel_col else "sku" if c == sku_col else c for c in time_by)
    result, _ = fit_arrays(arrays, by=tuple("sku" if c == sku_col else "channel" for c in by), method=method,
                           time_effects=time_effects, time_by=time_by, trend=trend, level=level, min_obs=min_obs,
                           min_positive=min_positive, min_price_sd=min_price_sd)
    return result.rename(columns={"sku": sku_col, "channel": channel_col})
