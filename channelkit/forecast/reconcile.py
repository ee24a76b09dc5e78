"""Forecasts that add up: SKU x channel reconciled to SKU, channel and total.

Methods (FPP3 ch. 11; hierarchicalforecast's reconcilers, see :mod:`channelkit.forecast.hierarchy`):

- ``bottom_up`` (default): every aggregate is the sum of its bottom series' forecasts. Needs no
  forecasts of the aggregates, so it costs nothing beyond the engine run.
- ``wls_struct`` and ``mint_shrink`` (also ``ols``, ``wls_var``): MinT (Wickramasuriya et al.
  2019) combines *base* forecasts of every node. The aggregates' base forecasts come from the same engine
  (:func:`aggregate_run`: ``run_forecast`` on the summed history, with the run's horizon,
  backtest windows and candidate models). MinT's ``W`` is estimated from the engine's
  **rolling-origin backtest errors** (``y - yhat`` of the chosen model per node, every cutoff and
  date), passed to hierarchicalforecast as ``y_insample``/``y_hat_insample``: the engine keeps no
  in-sample fitted values, and the backtest errors are the out-of-sample, multi-step errors of
  the forecasts actually being reconciled, which is what ``W_h`` stands for. Forecasts are
  constrained non-negative.
- ``auto``: the method with the lowest backtest MASE summed over the four levels
  (:func:`compare_reconciliation`, :mod:`channelkit.forecast.reconcile_compare`); ties go to
  ``bottom_up``.

Scale: up to ``max_nodes`` nodes (default 1,000) MinT runs hierarchicalforecast's dense
``MinTrace``, whose non-negative programme on dense matrices grows fast (measured: 138 s per
method at 1,206 nodes against 6.8 s for the sparse solver, same MASE for ``wls_struct``); above it (e.g. 10,000 SKU x channel series, 12,000 nodes) ``ols``, ``wls_struct`` and
``wls_var`` run its ``MinTraceSparse`` (same estimators with a diagonal ``W``; see
:mod:`channelkit.forecast.hierarchy`), ``auto`` compares bottom-up with those three, and
``mint_shrink`` (full covariance) raises.

The comparison is out of sample for the reconciliation step: the backtest forecasts of window
``k`` are reconciled with a ``W`` estimated from the other windows' errors (cross-fitting; with a
single window it is the same window, flagged in the table). Series too short to backtest (and
all-zero ones) have no engine backtest; in the hierarchy backtest their forecast at a cutoff is the
engine's short-history rule (:mod:`channelkit.forecast.reconcile_backtest`).

Intervals: bottom series keep the engine's intervals (shifted by the reconciliation's change of
the point forecast, for MinT); aggregates get split-conformal intervals from the reconciled
backtest errors by the run's interval rule (``run.options["intervals"]``, :mod:`channelkit.forecast.intervals`;
a sum of 90% quantiles is not the 90% quantile of the sum), clipped at 0.

Output of :func:`reconcile`: one row per level, key and date: ``level`` (``sku/channel``, ``sku``,
``channel``, ``total``), the two id columns (``"(all)"`` where aggregated), ``date``, ``forecast``,
``lo_<L>``/``hi_<L>``, ``method``; for ``auto``, ``pd.DataFrame(out.attrs["comparison"])`` is the
comparison table that decided.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.errors import InputError
from channelkit.forecast import hierarchy as H
from channelkit.forecast.backtest import CUTOFF, level_label
from channelkit.forecast.intervals import add_intervals
from channelkit.forecast.engine import ForecastRun
from channelkit.forecast.frames import UID, Y
from channelkit.forecast.hierarchy import ALL, aggregate
from channelkit.forecast.reconcile_backtest import (HierarchyBacktest, _tagged, aggregate_run,
                                                    engine_options, hierarchy_backtest, node_history,
                                                    reconcile_backtest)
from channelkit.forecast.reconcile_compare import (METHODS, SPARSE_METHODS, _compare,
                                                   check_method, choose_method, compare_reconciliation,
                                                   default_methods, solver_for)

# The public names of the three reconcile modules, importable from here as before the split.
__all__ = ["ALL", "METHODS", "SPARSE_METHODS", "HierarchyBacktest", "aggregate", "aggregate_run", "choose_method",
           "compare_reconciliation", "engine_options", "hierarchy_backtest", "node_history", "reconcile",
           "reconcile_backtest"]


def _future(run: ForecastRun, base: ForecastRun | None, nodes: pd.DataFrame,
            S: np.ndarray) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Base forecasts of every node (nodes x future dates); aggregates bottom-up without ``base``."""
    prep = run.prepared
    ids, date_col = list(prep.id_cols), prep.date_col
    dates = pd.DatetimeIndex(sorted(run.forecast[date_col].unique()))
    frames = [_tagged(run, run.forecast, aggregates=False)]
    if base is not None:
        frames.append(_tagged(base, base.forecast, aggregates=True))
    y_hat = H.to_matrix(pd.concat(frames, ignore_index=True), nodes, dates, value="forecast", id_cols=ids,
                        col_keys=[date_col])
    n_bottom = S.shape[1]
    if base is None:
        y_hat[:-n_bottom] = S[:-n_bottom] @ y_hat[-n_bottom:]
    if np.isnan(y_hat).any():
        missing = nodes[np.isnan(y_hat).any(axis=1)].head(3).to_dict("records")
        raise InputError(f"`base` must forecast every aggregate node over the run's dates, but it lacks e.g. {missing}")
    return y_hat, dates


def _intervals(run: ForecastRun, nodes: pd.DataFrame, S: np.ndarray, rec: np.ndarray, y_hat: np.ndarray,
               dates: pd.DatetimeIndex, bt: HierarchyBacktest | None, rec_bt: np.ndarray | None) -> pd.DataFrame:
    """The long output frame with intervals (see the module docstring for the rules)."""
    prep = run.prepared
    ids, date_col = list(prep.id_cols), prep.date_col
    n, t = rec.shape
    out = nodes.iloc[np.repeat(np.arange(n), t)].reset_index(drop=True)
    out[date_col] = np.tile(dates, n)
    out["forecast"], out["_shift"], out[UID] = rec.ravel(), (rec - y_hat).ravel(), np.repeat(np.arange(n), t)
    bounds = [f"{s}_{level_label(lv)}" for lv in run.levels for s in ("lo", "hi")]
    n_bottom = S.shape[1]
    bottom = out.iloc[-n_bottom * t:].merge(run.forecast[[*ids, date_col, *bounds]], on=[*ids, date_col], how="left")
    for lv in run.levels:
        lo, hi = f"lo_{level_label(lv)}", f"hi_{level_label(lv)}"
        bottom[lo] = np.minimum((bottom[lo] + bottom["_shift"]).clip(lower=0), bottom["forecast"])
        bottom[hi] = np.maximum(bottom[hi] + bottom["_shift"], bottom["forecast"])
    agg = out.iloc[:-n_bottom * t]
    if bt is not None:
        cv = pd.DataFrame({UID: np.repeat(np.arange(n), bt.y.shape[1]), CUTOFF: np.tile(bt.columns.get_level_values(0), n),
                           Y: bt.y.ravel(), "forecast": rec_bt.ravel()})
        agg = add_intervals(agg, cv[cv[UID] < n - n_bottom], run.levels,
                            method=run.options.get("intervals", "conformal_pooled"))  # the engine's rule
    else:  # no backtest: the sum of the bottom bounds (wider than needed when errors partly cancel)
        summed = bottom[bounds].to_numpy().reshape(n_bottom, t, -1)
        agg = agg.assign(**{b: (S[:-n_bottom] @ summed[..., k]).ravel() for k, b in enumerate(bounds)})
    cols = [H.LEVEL, *ids, date_col, "forecast", *bounds]
    full = pd.concat([bottom[cols], agg[cols]], ignore_index=True)
    order = {name: k for k, (name, _) in enumerate(H.level_keys(ids))}
    return full.sort_values([H.LEVEL, *ids, date_col], key=lambda s: s.map(order) if s.name == H.LEVEL else s,
                            kind="stable").reset_index(drop=True)


def reconcile(run: ForecastRun, *, method: str = "bottom_up", base: ForecastRun | None = None,
              max_nodes: int = 1000, n_jobs: int = 1, progress: bool = False) -> pd.DataFrame:
    """Coherent forecasts with intervals for every level of a :class:`ForecastRun`.

    ``method``: ``"bottom_up"`` (default), ``"wls_struct"``, ``"mint_shrink"``, ``"ols"``,
    ``"wls_var"`` or ``"auto"`` (the best by backtest MASE among ``METHODS``, or
    ``SPARSE_METHODS`` above ``max_nodes``; see the module docstring). ``base`` is the aggregate
    nodes' run (:func:`aggregate_run`); computed with ``n_jobs``/``progress`` when a MinT method
    needs it and it is not given. Hierarchies of more than ``max_nodes`` nodes use the sparse MinT
    (``mint_shrink`` raises there). Bottom forecasts sum exactly to every aggregate, all are >= 0.
    """
    prep = run.prepared
    nodes, S = H.structure(run.forecast, id_cols=prep.id_cols)
    check_method(method, len(nodes), max_nodes)
    solver = solver_for(len(nodes), max_nodes)
    if method not in ("bottom_up", "auto") and not len(run.backtest):
        raise InputError(f"`method={method!r}` needs the run's backtest errors, but no series was long enough to "
                         "backtest; use method='bottom_up' or more history")
    if method == "auto" and not len(run.backtest):
        method = "bottom_up"
    if method != "bottom_up" and base is None:
        base = aggregate_run(run, n_jobs=n_jobs, progress=progress)
    comparison, bt, rec_bt = None, None, None
    if method == "auto":
        comparison, bt, values = _compare(run, base, default_methods(len(nodes), max_nodes), max_nodes, n_jobs)
        method = choose_method(comparison)
        rec_bt = values[method]
    use_base = base if method != "bottom_up" else None
    if len(run.backtest) and (bt is None or use_base is None):
        bt = hierarchy_backtest(run, use_base)
    if bt is not None and rec_bt is None:
        rec_bt = reconcile_backtest(bt, method, solver=solver, n_jobs=n_jobs)
    y_hat, dates = _future(run, use_base, nodes, S)
    rec = H.reconcile_matrix(S, y_hat, method=method, y=None if bt is None else bt.y,
                             y_fit=None if bt is None else bt.y_hat, solver=solver, n_jobs=n_jobs)
    out = _intervals(run, nodes, S, rec, y_hat, dates, bt, rec_bt).assign(method=method)
    if comparison is not None:
        # Records, not a frame: pandas compares attrs on concat and a frame there raises.
        out.attrs["comparison"] = comparison.to_dict("records")
    return out
