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
  (:func:`compare_reconciliation`); ties go to ``bottom_up``.

The comparison is out of sample for the reconciliation step: the backtest forecasts of window
``k`` are reconciled with a ``W`` estimated from the other windows' errors (cross-fitting; with a
single window it is the same window, flagged in the table). Series too short to backtest (and
all-zero ones) have no engine backtest; in the hierarchy backtest their forecast at a cutoff is the
engine's short-history rule, the mean of their last 28 days / 13 weeks / two seasons before it
(0 before they start).

Intervals: bottom series keep the engine's intervals (shifted by the reconciliation's change of
the point forecast, for MinT); aggregates get split-conformal intervals from the reconciled
backtest errors (a sum of 90% quantiles is not the 90% quantile of the sum), clipped at 0.

Output of :func:`reconcile`: one row per level, key and date: ``level`` (``sku/channel``, ``sku``,
``channel``, ``total``), the two id columns (``"(all)"`` where aggregated), ``date``, ``forecast``,
``lo_<L>``/``hi_<L>``, ``method``; for ``auto``, ``pd.DataFrame(out.attrs["comparison"])`` is the
comparison table that decided.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError
from channelkit.forecast import hierarchy as H
from channelkit.forecast.backtest import CUTOFF, conformal_intervals, level_label
from channelkit.forecast.engine import ForecastRun, run_forecast, short_history_window
from channelkit.forecast.frames import UID, Y
from channelkit.forecast.hierarchy import ALL, aggregate  # noqa: F401  (public re-exports)
from channelkit.forecast.models import ENSEMBLE
from channelkit.metrics.forecast import evaluate

METHODS = ("bottom_up", "wls_struct", "mint_shrink")
_CHOICES = ("bottom_up", *H.MINT_METHODS, "auto")
_USE_RESIDUALS = ("wls_var", "mint_shrink")
_NOT_MODELS = {CUTOFF, "actual", "forecast", "model", ENSEMBLE}


def engine_options(run: ForecastRun) -> dict:
    """The ``run_forecast`` options of ``run``: ``run.options`` as the engine stored them.

    A run built by hand without them gets what its frames reveal: ``horizon`` (future dates),
    ``n_windows`` and ``step`` (backtest cutoffs), ``models`` (the backtested candidates),
    ``levels`` and ``freq``.
    """
    if run.options:
        return dict(run.options)
    prep = run.prepared
    opts: dict = {"horizon": int(run.forecast[prep.date_col].nunique()), "levels": run.levels, "freq": prep.freq}
    if len(run.backtest):
        cuts = pd.DatetimeIndex(sorted(run.backtest[CUTOFF].unique()))
        opts["n_windows"] = len(cuts)
        if len(cuts) > 1:
            opts["step"] = len(pd.date_range(cuts[0], cuts[1], freq=prep.freq)) - 1
        skip = {*prep.id_cols, prep.date_col, *_NOT_MODELS}
        opts["models"] = tuple(c for c in run.backtest.columns if c not in skip)
    return opts


def node_history(run: ForecastRun, *, since: pd.Timestamp | None = None) -> pd.DataFrame:
    """The run's cleaned history (from ``since`` on) summed to every node (``level``, id columns, date, value)."""
    prep = run.prepared
    hist = run.history if since is None else run.history[run.history[prep.date_col] >= since]
    return aggregate(hist, [prep.value_col], id_cols=prep.id_cols, date_col=prep.date_col)


def aggregate_run(run: ForecastRun, *, n_jobs: int = 1, progress: bool = False, **options) -> ForecastRun:
    """Base forecasts of the aggregate nodes (SKU, channel, total) from the same engine.

    Runs :func:`~channelkit.forecast.engine.run_forecast` on the summed history of every
    aggregate node (id columns ``"(all)"`` where aggregated) with :func:`engine_options` of
    ``run``, overridden by ``options``. The result is a run over the aggregate nodes only.
    """
    prep = run.prepared
    bottom = H.level_keys(prep.id_cols)[0][0]
    hist = node_history(run)
    panel = hist[hist[H.LEVEL] != bottom].drop(columns=H.LEVEL)
    opts = {**engine_options(run), **options}
    return run_forecast(panel, id_cols=prep.id_cols, date_col=prep.date_col, value_col=prep.value_col,
                        n_jobs=n_jobs, progress=progress, **opts)


@dataclass
class HierarchyBacktest:
    """The hierarchy over the backtest: nodes x (cutoff, date) matrices of actuals and base forecasts."""

    nodes: pd.DataFrame
    S: np.ndarray
    columns: pd.MultiIndex
    y: np.ndarray
    y_hat: np.ndarray


def _tagged(run: ForecastRun, frame: pd.DataFrame, *, aggregates: bool) -> pd.DataFrame:
    """``frame`` with its ``level``: the bottom level, or for an aggregate run the level its
    ``"(all)"`` id values spell (both: total; the second: the first id column's level)."""
    a, b = run.prepared.id_cols
    if not aggregates:
        return frame.assign(**{H.LEVEL: f"{a}/{b}"})
    level = np.where((frame[a] == ALL) & (frame[b] == ALL), "total", np.where(frame[b] == ALL, a, b))
    return frame.assign(**{H.LEVEL: level})




def _standin(hist: pd.DataFrame, nodes: pd.DataFrame, cutoffs: Sequence, *, keys: list[str], date_col: str,
             value_col: str, window: int) -> np.ndarray:
    """Per node and cutoff: mean of the last ``window`` values up to the cutoff (0 before the node starts)."""
    out = np.zeros((len(nodes), len(cutoffs)))
    idx = pd.MultiIndex.from_frame(nodes[keys])
    for j, cut in enumerate(cutoffs):
        past = hist[hist[date_col] <= cut].groupby(keys, observed=True, sort=False).tail(window)
        tail = past.groupby(keys, observed=True, sort=False)[value_col].mean()
        out[:, j] = tail.reindex(idx).fillna(0.0).to_numpy()
    return out


def hierarchy_backtest(run: ForecastRun, base: ForecastRun | None = None) -> HierarchyBacktest:
    """Assemble :class:`HierarchyBacktest` from ``run`` (bottom) and ``base`` (aggregates).

    Without ``base`` the aggregates' base forecasts are the bottom-up sums. Needs a backtest.
    """
    prep = run.prepared
    ids, date_col = list(prep.id_cols), prep.date_col
    if not len(run.backtest):
        raise InputError("reconciliation needs the run's backtest, but no series was long enough to backtest; "
                         "use `method='bottom_up'` or more history")
    nodes, S = H.structure(run.forecast, id_cols=ids)
    n_bottom = S.shape[1]
    frames = [_tagged(run, run.backtest, aggregates=False)]
    if base is not None and len(base.backtest):
        theirs, ours = sorted(base.backtest[CUTOFF].unique()), sorted(run.backtest[CUTOFF].unique())
        if theirs != ours:
            raise InputError(f"`base` must be backtested at the run's cutoffs {[str(c)[:10] for c in ours]}, "
                             f"but got {[str(c)[:10] for c in theirs]}; build it with aggregate_run(run)")
        frames.append(_tagged(base, base.backtest, aggregates=True))
    grid = run.backtest[[CUTOFF, date_col]].drop_duplicates().sort_values([CUTOFF, date_col])
    columns = pd.MultiIndex.from_frame(grid)
    y_hat = H.to_matrix(pd.concat(frames, ignore_index=True), nodes, columns, value="forecast", id_cols=ids,
                        col_keys=[CUTOFF, date_col])
    cutoffs = pd.DatetimeIndex(columns.get_level_values(0).unique())
    window = short_history_window(prep.season_length)
    # Only the stand-ins' windows and the backtest dates are needed, not all history.
    hist = node_history(run, since=cutoffs[0] - window * pd.tseries.frequencies.to_offset(prep.freq))
    col_cut = cutoffs.get_indexer(columns.get_level_values(0))
    if base is None:  # only the bottom rows are needed; the aggregates are their sums
        y_hat[:-n_bottom] = 0.0
    if np.isnan(y_hat).any():  # series too short to backtest: the engine's short-history rule
        standin = _standin(hist, nodes, list(cutoffs), keys=[H.LEVEL, *ids], date_col=date_col,
                           value_col=prep.value_col, window=window)
        y_hat = np.where(np.isnan(y_hat), standin[:, col_cut], y_hat)
    if base is None:
        y_hat[:-n_bottom] = S[:-n_bottom] @ y_hat[-n_bottom:]
    dates = pd.DatetimeIndex(columns.get_level_values(1))
    y = H.to_matrix(hist, nodes, dates.unique().sort_values(), value=prep.value_col, id_cols=ids, col_keys=[date_col])
    y = np.nan_to_num(y[:, dates.unique().sort_values().get_indexer(dates)])
    return HierarchyBacktest(nodes, S, columns, y, y_hat)


def reconcile_backtest(bt: HierarchyBacktest, method: str) -> np.ndarray:
    """Reconciled backtest forecasts (nodes x columns), ``W`` cross-fitted over the windows.

    The forecasts of each cutoff are reconciled with residuals from the other cutoffs (all
    cutoffs when there is only one), so the comparison never scores ``W`` on its own errors.
    """
    cut = bt.columns.get_level_values(0)
    out = np.empty_like(bt.y_hat)
    for c in cut.unique():
        here = np.asarray(cut == c)
        train = ~here if (~here).any() else here
        out[:, here] = H.reconcile_matrix(bt.S, bt.y_hat[:, here], method=method, y=bt.y[:, train],
                                          y_fit=bt.y_hat[:, train])
    return out


def _check_method(method: str, n_nodes: int, max_nodes: int) -> None:
    if method not in _CHOICES:
        raise InputError(f"`method` must be one of {list(_CHOICES)}, but got {method!r}")
    if method not in ("bottom_up", "auto") and n_nodes > max_nodes:
        raise InputError(f"`method={method!r}` needs dense {n_nodes} x {n_nodes} matrices (more than `max_nodes`="
                         f"{max_nodes}); use 'bottom_up' or raise `max_nodes`")


def _frame(bt: HierarchyBacktest, values: dict[str, np.ndarray], id_cols: list[str], date_col: str) -> pd.DataFrame:
    """Long frame: one row per node, cutoff and date with ``actual`` and one column per ``values``."""
    n, t = bt.y.shape
    node = np.repeat(np.arange(n), t)
    out = bt.nodes.iloc[node].reset_index(drop=True)
    out[CUTOFF] = np.tile(bt.columns.get_level_values(0), n)
    out[date_col] = np.tile(bt.columns.get_level_values(1), n)
    out["actual"] = bt.y.ravel()
    for name, v in values.items():
        out[name] = v.ravel()
    return out


def _compare(run: ForecastRun, base: ForecastRun | None, methods: Sequence[str],
             max_nodes: int) -> tuple[pd.DataFrame, HierarchyBacktest, dict[str, np.ndarray]]:
    """The comparison table, the hierarchy backtest and each method's reconciled backtest."""
    prep = run.prepared
    ids, date_col = list(prep.id_cols), prep.date_col
    needs_base = any(m != "bottom_up" for m in methods)
    bt = hierarchy_backtest(run, base if needs_base else None)
    if len(bt.nodes) > max_nodes:
        methods = [m for m in methods if m == "bottom_up"]
    values = {"base": bt.y_hat}
    for m in methods:
        try:
            values[m] = reconcile_backtest(bt, m)
        except InputError:  # e.g. an ill-conditioned W: that method cannot be chosen
            values[m] = np.full_like(bt.y_hat, np.nan)
    long = _frame(bt, values, ids, date_col)
    hist = node_history(run)  # all of it: the MASE scale is the in-sample seasonal naive error
    rows = []
    for level, _ in H.level_keys(ids):
        g = long[long[H.LEVEL] == level]
        table = evaluate(g, list(values), hist[hist[H.LEVEL] == level], season_length=prep.season_length,
                         id_cols=ids, date_col=date_col, value_col=prep.value_col)
        rows.append(table[["model", "mase", "wape"]].assign(level=level))
    out = pd.concat(rows, ignore_index=True).rename(columns={"model": "method"})
    total = out.groupby("method", sort=False, as_index=False)[["mase", "wape"]].sum(min_count=1)
    out = pd.concat([out, total.assign(level="all levels")], ignore_index=True)
    several = bt.columns.get_level_values(0).nunique() > 1
    out["w_from"] = np.where(out["method"].isin(_USE_RESIDUALS), "other windows" if several else "same window", "")
    return out[["level", "method", "mase", "wape", "w_from"]], bt, values


def compare_reconciliation(run: ForecastRun, *, base: ForecastRun | None = None, methods: Sequence[str] = METHODS,
                           max_nodes: int = 2500, n_jobs: int = 1, progress: bool = False) -> pd.DataFrame:
    """Rolling-origin accuracy of each reconciliation method at every level.

    Uses the run's backtest windows (see the module doc). Columns: ``level`` (the four levels,
    then ``all levels``: the sum of the level values), ``method`` (``base`` = the unreconciled
    base forecasts, for reference, then ``methods``), ``mase`` (mean over nodes and cutoffs,
    scale = in-sample seasonal naive MAE up to the cutoff, as :mod:`channelkit.metrics.forecast`),
    ``wape`` (pooled within the level), ``w_from`` (where MinT's residuals came from: ``other
    windows``, or ``same window`` when there is one). A method that fails gets NaN. MinT methods
    are left out when the hierarchy has more than ``max_nodes`` nodes.
    """
    methods = list(methods)
    for m in methods:
        if m == "auto":
            raise InputError("`methods` lists methods to compare, so it cannot contain 'auto'")
        _check_method(m, 0, max_nodes)
    if len(H.structure(run.forecast, id_cols=run.prepared.id_cols)[0]) > max_nodes:
        methods = [m for m in methods if m == "bottom_up"]
    if base is None and any(m != "bottom_up" for m in methods):
        base = aggregate_run(run, n_jobs=n_jobs, progress=progress)
    return _compare(run, base, methods, max_nodes)[0]


def choose_method(comparison: pd.DataFrame) -> str:
    """The reconciliation method with the lowest summed MASE (ties and NaN: ``bottom_up``)."""
    total = comparison[(comparison["level"] == "all levels") & (comparison["method"] != "base")]
    total = total.set_index("method")["mase"].dropna()
    if total.empty or "bottom_up" not in total:
        return "bottom_up"
    best = total.idxmin()
    return best if total[best] < total["bottom_up"] else "bottom_up"


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
        cv = pd.DataFrame({UID: np.repeat(np.arange(n), bt.y.shape[1]), Y: bt.y.ravel(), "forecast": rec_bt.ravel()})
        agg = conformal_intervals(agg, cv[cv[UID] < n - n_bottom], run.levels)
    else:  # no backtest: the sum of the bottom bounds (wider than needed when errors partly cancel)
        summed = bottom[bounds].to_numpy().reshape(n_bottom, t, -1)
        agg = agg.assign(**{b: (S[:-n_bottom] @ summed[..., k]).ravel() for k, b in enumerate(bounds)})
    cols = [H.LEVEL, *ids, date_col, "forecast", *bounds]
    full = pd.concat([bottom[cols], agg[cols]], ignore_index=True)
    order = {name: k for k, (name, _) in enumerate(H.level_keys(ids))}
    return full.sort_values([H.LEVEL, *ids, date_col], key=lambda s: s.map(order) if s.name == H.LEVEL else s,
                            kind="stable").reset_index(drop=True)


def reconcile(run: ForecastRun, *, method: str = "bottom_up", base: ForecastRun | None = None,
              max_nodes: int = 2500, n_jobs: int = 1, progress: bool = False) -> pd.DataFrame:
    """Coherent forecasts with intervals for every level of a :class:`ForecastRun`.

    ``method``: ``"bottom_up"`` (default), ``"wls_struct"``, ``"mint_shrink"``, ``"ols"``,
    ``"wls_var"`` or ``"auto"`` (choice among bottom-up, WLS-struct and MinT-shrink; see the
    module docstring). ``base`` is the aggregate nodes' run (:func:`aggregate_run`);
    computed with ``n_jobs``/``progress`` when a MinT method needs it and it is not given.
    MinT methods need at most ``max_nodes`` nodes (dense matrices); ``auto`` falls back to
    ``bottom_up`` above it. Bottom forecasts sum exactly to every aggregate, all are >= 0.
    """
    prep = run.prepared
    nodes, S = H.structure(run.forecast, id_cols=prep.id_cols)
    _check_method(method, len(nodes), max_nodes)
    if method not in ("bottom_up", "auto") and not len(run.backtest):
        raise InputError(f"`method={method!r}` needs the run's backtest errors, but no series was long enough to "
                         "backtest; use method='bottom_up' or more history")
    if method == "auto" and (not len(run.backtest) or len(nodes) > max_nodes):
        method = "bottom_up"
    if method != "bottom_up" and base is None:
        base = aggregate_run(run, n_jobs=n_jobs, progress=progress)
    comparison, bt, rec_bt = None, None, None
    if method == "auto":
        comparison, bt, values = _compare(run, base, METHODS, max_nodes)
        method = choose_method(comparison)
        rec_bt = values[method]
    use_base = base if method != "bottom_up" else None
    if len(run.backtest) and (bt is None or use_base is None):
        bt = hierarchy_backtest(run, use_base)
    if bt is not None and rec_bt is None:
        rec_bt = reconcile_backtest(bt, method)
    y_hat, dates = _future(run, use_base, nodes, S)
    rec = H.reconcile_matrix(S, y_hat, method=method, y=None if bt is None else bt.y,
                             y_fit=None if bt is None else bt.y_hat)
    out = _intervals(run, nodes, S, rec, y_hat, dates, bt, rec_bt).assign(method=method)
    if comparison is not None:
        # Records, not a frame: pandas compares attrs on concat and a frame there raises.
        out.attrs["comparison"] = comparison.to_dict("records")
    return out
