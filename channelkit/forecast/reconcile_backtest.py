"""The hierarchy over the engine's backtest: inputs of MinT's ``W`` and of the method comparison.

:func:`aggregate_run` forecasts the aggregate nodes with the engine; :func:`hierarchy_backtest`
lines up every node's backtest actuals and base forecasts as ``nodes x (cutoff, date)`` matrices
(series too short to backtest get the engine's short-history rule at each cutoff: the mean of
their last 28 days / 13 weeks / two seasons, 0 before they start); :func:`reconcile_backtest`
reconciles each window with ``W`` from the other windows (cross-fitting). See
:mod:`channelkit.forecast.reconcile` for the whole method.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError
from channelkit.forecast import hierarchy as H
from channelkit.forecast.backtest import CUTOFF
from channelkit.forecast.engine import ForecastRun, run_forecast, short_history_window
from channelkit.forecast.hierarchy import ALL, aggregate
from channelkit.forecast.models import ENSEMBLE

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


def reconcile_backtest(bt: HierarchyBacktest, method: str, *, solver: H.Solver = "dense",
                       n_jobs: int = 1) -> np.ndarray:
    """Reconciled backtest forecasts (nodes x columns), ``W`` cross-fitted over the windows.

    The forecasts of each cutoff are reconciled with residuals from the other cutoffs (all
    cutoffs when there is only one), so the comparison never scores ``W`` on its own errors.
    ``solver`` and ``n_jobs`` as :func:`~channelkit.forecast.hierarchy.reconcile_matrix`.
    """
    cut = bt.columns.get_level_values(0)
    out = np.empty_like(bt.y_hat)
    for c in cut.unique():
        here = np.asarray(cut == c)
        train = ~here if (~here).any() else here
        out[:, here] = H.reconcile_matrix(bt.S, bt.y_hat[:, here], method=method, y=bt.y[:, train],
                                          y_fit=bt.y_hat[:, train], solver=solver, n_jobs=n_jobs)
    return out
