"""Own-price elasticities fitted by pyfixest, the Python port of R's fixest (``engine="pyfixest"``).

The same model as :mod:`.estimate`, written as a fixest formula on the same zero-completed cells::

    fepois("y ~ i(slope, logp) + i(series, trend) + controls | series + stratum_period", vcov="hetero")

(``feols`` on log units for ``method="ols"``; without period effects, ``| series`` only). It gives
the library's estimates and its whole variance menu (``vcov="hetero"``, ``{"CRV1": "sku"}``, ...)
for cross-checking or reporting, and it is what the tests hold the default engine to: the
coefficients agree to 1e-7 and the robust standard errors to 1e-5 (``tests/test_elasticity_fixest.py``).

It is not the default because ``i(slope, logp)`` is one dense column per slope over all cells: on
the ``large`` sample (10,000 series x 730 days) that is about 580 GB, and on the small sample the
fit takes about 10x the CPU of the default engine, which eliminates the fixed effects stratum by
stratum (:mod:`.solver`, :mod:`.covariance`). :func:`fit_pyfixest` refuses designs over
``max_gb`` with that advice.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from channelkit.elasticity.design import PanelArrays
from channelkit.elasticity.estimate import (FitInputs, Method, TimeEffects, check_options, fit_inputs,
                                            newey_west_lag, result_frame)
from channelkit.elasticity.solver import series_basis
from channelkit.errors import InputError


def long_frame(arrays: PanelArrays, inp: FitInputs, *, trend: bool) -> pd.DataFrame:
    """One row per fitted cell: ``y``, ``logp``, ``period`` (index on the date grid), ``slope``,
    ``series``, ``sku``, ``channel``, ``trend``, ``stratum_period`` and the controls ``z0, z1, ...``
    (names sanitised for formulas)."""
    g, t = np.nonzero(inp.mask)
    frame = pd.DataFrame({
        "y": inp.y[g, t], "logp": arrays.logp[g, t], "period": t,
        "slope": pd.Categorical(inp.slope[g]), "series": pd.Categorical(g),
        "sku": arrays.keys["sku"].to_numpy()[g], "channel": arrays.keys["channel"].to_numpy()[g],
    })
    if trend:
        frame["trend"] = series_basis(arrays.y.shape[1], True)[1][t]
    if inp.strata is not None:
        frame["stratum_period"] = inp.strata[g].astype(np.int64) * arrays.y.shape[1] + t
    for j in range(inp.controls.shape[0]):
        frame[f"z{j}"] = inp.controls[j][g, t]
    return frame


def formula(inp: FitInputs, *, trend: bool) -> str:
    rhs = ["i(slope, logp)"] + (["i(series, trend)"] if trend else []) + [f"z{j}" for j in range(inp.controls.shape[0])]
    fixed = "series + stratum_period" if inp.strata is not None else "series"
    return f"y ~ {' + '.join(rhs)} | {fixed}"


def fit_pyfixest(
    arrays: PanelArrays,
    *,
    by: tuple[str, ...] = ("sku", "channel"),
    method: Method = "ppml",
    time_effects: TimeEffects = "date",
    time_by: tuple[str, ...] = ("channel",),
    trend: bool = True,
    level: float = 0.90,
    min_obs: int = 20,
    min_positive: int = 5,
    min_price_sd: float = 0.01,
    vcov: str | dict[str, str] = "hetero",
    nw_lag: int | None = None,
    max_gb: float = 4.0,
) -> tuple[pd.DataFrame, Any]:
    """Estimate with pyfixest; returns the result frame of :func:`.estimate.fit_arrays` and the pyfixest fit.

    ``vcov`` is passed to pyfixest (``"hetero"``, ``"iid"``, ``{"CRV1": "sku"}``, ``{"CRV1": "channel"}``);
    ``"nw"`` is its Newey-West within each series (``vcov="NW"``, panel ``series``, time ``period``,
    lag ``nw_lag`` or the default of :func:`.estimate.newey_west_lag`);
    the interval is the estimate +/- the normal quantile times its standard error, as in the default
    engine. Raises :class:`InputError` when the dense interaction columns would exceed ``max_gb``.
    """
    try:
        import pyfixest as pf
    except ImportError as exc:  # pragma: no cover - pyfixest is a runtime dependency
        raise InputError("engine='pyfixest' needs the pyfixest package: pip install pyfixest") from exc
    by = check_options(by=by, method=method, time_effects=time_effects, level=level)
    vcov_kwargs = None
    if vcov == "nw":
        vcov, vcov_kwargs = "NW", {"lag": newey_west_lag(arrays.y.shape[1], nw_lag), "time_id": "period",
                                   "panel_id": "series"}
    inp = fit_inputs(arrays, by=by, method=method, time_effects=time_effects, time_by=time_by, trend=trend,
                     min_obs=min_obs, min_positive=min_positive, min_price_sd=min_price_sd)
    n_slopes = int(inp.slope.max()) + 1 if (inp.slope >= 0).any() else 0
    n_cols = n_slopes + (int((inp.slope >= 0).sum()) if trend else 0)
    size_gb = int(inp.mask.sum()) * n_cols * 8 / 1e9
    if size_gb > max_gb:
        raise InputError(f"engine='pyfixest' would build {n_cols:,} dense columns over {int(inp.mask.sum()):,} "
                         f"cells (~{size_gb:,.0f} GB, limit max_gb={max_gb}); use the default engine, which "
                         f"gives the same estimates without building them")
    frame = long_frame(arrays, inp, trend=trend)
    estimator = pf.fepois if inp.family == "poisson" else pf.feols
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyfixest reports dropped singletons and collinear trends
        fit = estimator(formula(inp, trend=trend), data=frame, vcov=vcov, vcov_kwargs=vcov_kwargs)
    coef, se = fit.coef(), fit.se()
    keys = [f"slope::{s}:logp" for s in range(n_slopes)]
    eps = coef.reindex(keys).to_numpy(dtype=float)
    var = se.reindex(keys).to_numpy(dtype=float) ** 2
    n_obs = np.bincount(inp.slope[inp.slope >= 0], inp.mask[inp.slope >= 0].sum(axis=1), minlength=n_slopes)
    result = result_frame(arrays, inp.diag, by, inp.slope, eps, var, n_obs, level, method, True)
    return result.assign(method=f"{method} (pyfixest)"), fit
