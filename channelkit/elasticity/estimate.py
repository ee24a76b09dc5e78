"""Own-price elasticities per SKU x channel, or per SKU pooled over channels, with intervals.

Model (log-log, constant elasticity)::

    log E[units_gt] = alpha_g + e * log(price_gt) + time effects + gamma' controls_gt

- ``by=("sku", "channel")``: one elasticity ``e`` per series; ``by=("sku",)``: one per SKU shared
  by its channels, each channel keeping its own level (channel fixed effects).
- Time effects: ``time_effects="date"`` (default) puts one fixed effect on every period within
  each stratum of ``time_by`` (default ``"auto"``: channel x category x date for a seller's few
  channels, SKU x date shared by the stores of a store panel, see :func:`estimate_elasticities`), absorbing day of week, yearly season,
  festivals, trend and channel-wide promotion traffic without a functional form; ``"calendar"``
  uses shared day-of-week, yearly Fourier, trend, festival-phase and holiday controls instead
  (the choice for a single series or very few series per stratum).
- ``method="ppml"`` (default): Poisson pseudo-likelihood, keeps periods without sales and is
  consistent for the elasticity of expected units (see :mod:`.design`); ``method="ols"``: least
  squares of log units on periods with sales, the classic scanner-data log-log regression, biased
  when many periods sell nothing.
- Standard errors: heteroskedasticity-robust sandwich over all parameters, fixest's
  ``vcov="hetero"`` with its small-sample factor (:mod:`.covariance`); the interval is
  ``e +/- z_(1+level)/2 * se`` (normal).
- ``engine="pyfixest"`` fits the same model with the pyfixest library (:mod:`.fixest`).

Series that fail :func:`.design.identification` are reported with their status and no number.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.elasticity.design import Gaps, PanelArrays, calendar_controls, identification, prepare_panel
from channelkit.elasticity.covariance import exact_slope_covariance
from channelkit.elasticity.solver import fit_fe
from channelkit.errors import InputError

Method = Literal["ppml", "ols"]
TimeEffects = Literal["date", "calendar", "none"]
Engine = Literal["channelkit", "pyfixest"]
Vcov = Literal["hetero", "nw"]
RESULT_COLUMNS = ["sku", "channel", "elasticity", "se", "ci_low", "ci_high", "n_obs", "n_series", "status",
                  "method", "price_sd", "units"]


def check_options(*, by: Sequence[str], method: str, time_effects: str, level: float,
                  sku_col: str = "sku", channel_col: str = "channel", vcov: str = "hetero",
                  nw_lag: int | None = None) -> tuple[str, ...]:
    """Validate the shared options; returns ``by`` as a tuple."""
    by = tuple(by)
    if by not in ((sku_col, channel_col), (sku_col,)):
        raise InputError(f"`by` must be ('{sku_col}', '{channel_col}') or ('{sku_col}',), but got {by}")
    if method not in ("ppml", "ols"):
        raise InputError(f"`method` must be 'ppml' or 'ols', but got {method!r}")
    if time_effects not in ("date", "calendar", "none"):
        raise InputError(f"`time_effects` must be 'date', 'calendar' or 'none', but got {time_effects!r}")
    if not 0 < level < 1:
        raise InputError(f"`level` must satisfy 0 < level < 1, but got {level}")
    if vcov not in ("hetero", "nw"):
        raise InputError(f"`vcov` must be 'hetero' or 'nw', but got {vcov!r}")
    if nw_lag is not None and (not isinstance(nw_lag, (int, np.integer)) or nw_lag < 1):
        raise InputError(f"`nw_lag` must be a whole number of periods >= 1, but got {nw_lag!r}")
    return by


def newey_west_lag(n_periods: int, nw_lag: int | None) -> int:
    """The Newey-West lag: ``nw_lag``, else pyfixest's default ``floor(T ** 0.25)`` (5 for two years of days)."""
    return int(nw_lag) if nw_lag is not None else max(1, int(np.floor(n_periods ** 0.25)))


AUTO = "auto"
STORE_PANEL_CHANNELS = 10  # from this many channels a panel is read as the stores of one chain


def _auto_strata(arrays: PanelArrays, ok: np.ndarray) -> np.ndarray:
    """``time_by="auto"`` (see :func:`estimate_elasticities`): with fewer than ``STORE_PANEL_CHANNELS``
    channels, channel (x category) x period; with more (a store panel), one stratum per SKU with 2+
    fitted series (SKU x period effects shared by its stores), and channel (x category) x period for a
    SKU fitted in one store only."""
    keys = arrays.keys
    fallback = keys["channel"].astype(str)
    if "category" in keys.columns:
        fallback = fallback + "|" + keys["category"].astype(str)
    if keys["channel"].nunique() < STORE_PANEL_CHANNELS:
        return pd.factorize(fallback)[0]
    fitted = pd.Series(ok, index=keys.index).groupby(keys["sku"]).transform("sum").to_numpy()
    label = np.where(fitted >= 2, "sku:" + keys["sku"].astype(str), "channel:" + fallback)
    return pd.factorize(label)[0]


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


@dataclass
class FitInputs:
    """What every engine fits: the series that pass identification, their response and design.

    ``mask`` the cells in the fit, ``y`` units (log units for OLS), ``slope`` dense slope-group codes
    (-1 for series left out), ``strata`` time-stratum codes (None with calendar controls),
    ``controls`` ``(K, G, T)`` with ``names``, ``diag`` the per-series identification table.
    """

    diag: pd.DataFrame
    family: str
    mask: np.ndarray
    y: np.ndarray
    slope: np.ndarray
    strata: np.ndarray | None
    controls: np.ndarray
    names: list[str]


def fit_inputs(
    arrays: PanelArrays,
    *,
    by: tuple[str, ...],
    method: Method,
    time_effects: TimeEffects,
    time_by: Sequence[str],
    trend: bool,
    min_obs: int,
    min_positive: int,
    min_price_sd: float,
) -> FitInputs:
    """Identification, strata, response and controls shared by :func:`fit_arrays` and the pyfixest engine."""
    diag = identification(arrays, min_obs=min_obs, min_positive=min_positive, min_price_sd=min_price_sd)
    ok = diag["status"].eq("ok").to_numpy()
    if time_effects != "date":
        strata = None
    elif isinstance(time_by, str) and time_by == AUTO:
        strata = _auto_strata(arrays, ok)
    else:
        strata = _strata(arrays, time_by)
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
    slope = _dense_codes(np.where(ok, slope_codes, -1))
    controls, names = _drop_absorbed(arrays.controls, list(arrays.control_names), mask, strata)
    if time_effects == "calendar":
        cal, cal_names = _calendar_array(arrays, drop=("trend",) if trend else ())
        controls = np.concatenate([controls, cal]) if controls.size else cal
        names += cal_names
    return FitInputs(diag=diag, family=family, mask=mask, y=y, slope=slope, strata=strata, controls=controls,
                     names=names)


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
    vcov: Vcov = "hetero",
    nw_lag: int | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Estimate from prepared arrays; returns the result frame and a dict of fit details.

    The details hold ``eta`` (fitted linear predictor, for offsets), ``gamma`` (shared control
    coefficients by name), ``fit`` (the :class:`.solver.FEFit`) and the per-series ``diagnostics``.
    """
    by = check_options(by=by, method=method, time_effects=time_effects, level=level, vcov=vcov, nw_lag=nw_lag)
    lag = newey_west_lag(arrays.y.shape[1], nw_lag) if vcov == "nw" else 0
    inp = fit_inputs(arrays, by=by, method=method, time_effects=time_effects, time_by=time_by, trend=trend,
                     min_obs=min_obs, min_positive=min_positive, min_price_sd=min_price_sd)
    controls = inp.controls if inp.controls.shape[0] else None
    logp = np.nan_to_num(arrays.logp)
    fit = fit_fe(inp.y, logp, inp.mask, slope=inp.slope, stratum=inp.strata, controls=controls,
                 family=inp.family, trend=trend, max_iter=max_iter, tol=tol)
    var, n_obs = exact_slope_covariance(inp.y, logp, inp.mask, fit, slope=inp.slope, stratum=inp.strata,
                                        controls=controls, family=inp.family, lag=lag)
    result = result_frame(arrays, inp.diag, by, inp.slope, fit.eps, var, n_obs, level, method,
                          fit.slope_converged)
    details = {"eta": fit.eta, "gamma": dict(zip(inp.names, fit.gamma)), "fit": fit, "diagnostics": inp.diag,
               "mask": inp.mask, "family": inp.family, "strata": inp.strata, "slope": inp.slope, "y": inp.y,
               "controls": inp.controls, "control_names": inp.names}
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


def result_frame(arrays: PanelArrays, diag: pd.DataFrame, by: tuple[str, ...], slope: np.ndarray,
                  eps: np.ndarray, var: np.ndarray, n_obs: np.ndarray, level: float, method: str,
                  converged: bool | np.ndarray) -> pd.DataFrame:
    """One row per slope group: estimate, se, interval, status; NaN estimates unless ``ok``.

    ``converged`` is one flag per slope (the default engine) or one for the whole fit (pyfixest);
    only the slopes that did not settle are ``not_converged``.
    """
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
    settled = np.asarray(converged, dtype=bool)
    if settled.ndim == 0:  # one flag for the fit (pyfixest), else one per slope
        settled = np.full(len(eps), bool(settled))
    bad = np.zeros(len(agg), dtype=bool)
    bad[has] = ~settled[dense[has]]
    status[bad] = "not_converged"
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
    time_by: Sequence[str] | Literal["auto"] | None = None,
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
    engine: Engine = "channelkit",
    vcov: Vcov = "hetero",
    nw_lag: int | None = None,
    gaps: Gaps = "auto",
) -> pd.DataFrame:
    """Own-price elasticity per SKU x channel (or per SKU), one row per group (model above).

    Columns: ``sku``, ``channel`` (empty when ``by=("sku",)``), ``elasticity``, ``se``,
    ``ci_low``/``ci_high`` (``level`` interval, default 90%), ``n_obs`` (periods in the fit),
    ``n_series``, ``status`` (``ok``, ``not_identified``, ``too_few_obs``, ``no_sales``,
    ``not_converged``), ``method``, ``price_sd`` (sd of log price), ``units`` (total).
    ``controls`` are panel columns with one shared coefficient (e.g. ``promo``, ``feature``).
    ``time_by`` names the strata of the period effects; it may name series attributes of the
    panel such as ``category``. Default ``None`` = ``"auto"``, decided by measurement
    (docs/elasticity.md): a panel of fewer than 10 channels (a seller's sales channels, each with
    its own calendar of promotions, festivals and weekday profile) gets channel x category x period
    effects (channel x period without a ``category`` column); a panel of 10 or more channels (the
    stores of a chain, which share a calendar) gets one period effect per SKU and period shared by
    its stores, the field's per-brand "store + week" design, so a SKU's elasticity comes from its
    own price differences across stores and never from its price relative to the substitutes on
    the same shelf (which measures own minus cross effects when shelf prices co-move). A SKU sold
    in one store only keeps the store x category effects. ``("sku",)`` forces the per-SKU design.
    ``trend`` adds a linear trend per series. ``engine="pyfixest"`` fits the same model with
    pyfixest's ``fepois``/``feols`` (:mod:`.fixest`; same numbers, far slower, small panels only).
    ``vcov="hetero"`` (default) gives heteroskedasticity-robust errors; ``vcov="nw"`` Newey-West
    errors within each series up to ``nw_lag`` periods (default ``floor(T ** 0.25)``), wider when a
    series' demand shocks persist from one period to the next. ``gaps`` says whether a period
    without a row is a period without sales or unobserved (:mod:`.design`; ``"auto"`` reads the panel).
    """
    if engine not in ("channelkit", "pyfixest"):
        raise InputError(f"`engine` must be 'channelkit' or 'pyfixest', but got {engine!r}")
    if time_by is None:
        time_by = AUTO
    check_options(by=by, method=method, time_effects=time_effects, level=level, sku_col=sku_col,
                  channel_col=channel_col, vcov=vcov, nw_lag=nw_lag)
    if isinstance(time_by, str) and time_by != AUTO:
        raise InputError(f"`time_by` must be 'auto' or a list of columns, but got {time_by!r}")
    if time_by == AUTO:
        attrs = ["category"] if "category" in panel.columns else []
    else:
        attrs = [c for c in time_by if c not in (sku_col, channel_col)]
    arrays = prepare_panel(panel, controls=controls, date_col=date_col, sku_col=sku_col, channel_col=channel_col,
                           units_col=units_col, price_col=price_col, list_price_col=list_price_col,
                           series_attrs=attrs, gaps=gaps)
    if time_by != AUTO:
        time_by = tuple("channel" if c == channel_col else "sku" if c == sku_col else c for c in time_by)
    options = dict(by=tuple("sku" if c == sku_col else "channel" for c in by), method=method,
                   time_effects=time_effects, time_by=time_by, trend=trend, level=level, min_obs=min_obs,
                   min_positive=min_positive, min_price_sd=min_price_sd, vcov=vcov, nw_lag=nw_lag)
    if engine == "pyfixest":
        from channelkit.elasticity.fixest import fit_pyfixest

        result, _ = fit_pyfixest(arrays, **options)
    else:
        result, _ = fit_arrays(arrays, **options)
    result = result.rename(columns={"sku": sku_col, "channel": channel_col})
    result.attrs["gaps"] = arrays.gaps  # how periods without a row were read, for the caller to report
    return result
