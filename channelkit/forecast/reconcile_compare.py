"""Which reconciliation backtests best: MASE and WAPE per level and method, and the choice.

The comparison reconciles the engine's backtest windows with every method (``W`` cross-fitted
over the windows, :func:`~channelkit.forecast.reconcile_backtest.reconcile_backtest`) and scores
each level against the actuals. Hierarchies of at most ``max_nodes`` nodes use the dense MinT
(``METHODS``: bottom-up, WLS-struct, MinT-shrink); larger ones ``MinTraceSparse``
(``SPARSE_METHODS``: bottom-up, OLS, WLS-struct, WLS-var), see :mod:`channelkit.forecast.hierarchy`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError
from channelkit.forecast import hierarchy as H
from channelkit.forecast.backtest import CUTOFF
from channelkit.forecast.engine import ForecastRun
from channelkit.forecast.reconcile_backtest import (HierarchyBacktest, aggregate_run, hierarchy_backtest,
                                                    node_history, reconcile_backtest)
from channelkit.metrics.forecast import evaluate

METHODS = ("bottom_up", "wls_struct", "mint_shrink")
SPARSE_METHODS = ("bottom_up", *H.SPARSE_METHODS)
CHOICES = ("bottom_up", *H.MINT_METHODS, "auto")
_USE_RESIDUALS = ("wls_var", "mint_shrink")


def solver_for(n_nodes: int, max_nodes: int) -> H.Solver:
    """``"dense"`` up to ``max_nodes`` nodes, ``"sparse"`` above."""
    return "dense" if n_nodes <= max_nodes else "sparse"


def check_method(method: str, n_nodes: int, max_nodes: int) -> None:
    """Raise :class:`InputError` for an unknown method or one with no solver at this size."""
    if method not in CHOICES:
        raise InputError(f"`method` must be one of {list(CHOICES)}, but got {method!r}")
    if method not in (*SPARSE_METHODS, "auto") and n_nodes > max_nodes:
        raise InputError(f"`method={method!r}` needs dense {n_nodes} x {n_nodes} matrices (more than `max_nodes`="
                         f"{max_nodes}) and has no sparse form; use one of {list(SPARSE_METHODS)} "
                         "or raise `max_nodes`")


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


def _compare(run: ForecastRun, base: ForecastRun | None, methods: Sequence[str], max_nodes: int,
             n_jobs: int = 1) -> tuple[pd.DataFrame, HierarchyBacktest, dict[str, np.ndarray]]:
    """The comparison table, the hierarchy backtest and each method's reconciled backtest."""
    prep = run.prepared
    ids, date_col = list(prep.id_cols), prep.date_col
    needs_base = any(m != "bottom_up" for m in methods)
    bt = hierarchy_backtest(run, base if needs_base else None)
    solver = solver_for(len(bt.nodes), max_nodes)
    values = {"base": bt.y_hat}
    for m in methods:
        try:
            values[m] = reconcile_backtest(bt, m, solver=solver, n_jobs=n_jobs)
        except InputError:  # e.g. an ill-conditioned or singular W: that method cannot be chosen
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
    out["solver"] = np.where(out["method"].isin(H.MINT_METHODS), solver, "")
    return out[["level", "method", "mase", "wape", "w_from", "solver"]], bt, values


def default_methods(n_nodes: int, max_nodes: int) -> tuple[str, ...]:
    """The methods ``auto`` compares: ``METHODS`` (dense) or ``SPARSE_METHODS`` above ``max_nodes``."""
    return METHODS if solver_for(n_nodes, max_nodes) == "dense" else SPARSE_METHODS


def compare_reconciliation(run: ForecastRun, *, base: ForecastRun | None = None,
                           methods: Sequence[str] | None = None, max_nodes: int = 1000, n_jobs: int = 1,
                           progress: bool = False) -> pd.DataFrame:
    """Rolling-origin accuracy of each reconciliation method at every level.

    Uses the run's backtest windows (see :mod:`channelkit.forecast.reconcile`). Columns: ``level``
    (the four levels, then ``all levels``: the sum of the level values), ``method`` (``base`` = the
    unreconciled base forecasts, for reference, then ``methods``), ``mase`` (mean over nodes and
    cutoffs, scale = in-sample seasonal naive MAE up to the cutoff, as
    :mod:`channelkit.metrics.forecast`), ``wape`` (pooled within the level), ``w_from`` (where
    MinT's residuals came from: ``other windows``, or ``same window`` when there is one),
    ``solver`` (``dense`` or ``sparse`` for MinT methods). ``methods`` defaults to
    :func:`default_methods`: ``METHODS`` up to ``max_nodes`` nodes, ``SPARSE_METHODS`` above
    (``mint_shrink`` there raises). A method that fails gets NaN. ``n_jobs`` runs the aggregate
    forecasts and the sparse non-negative programmes in parallel.
    """
    n_nodes = len(H.structure(run.forecast, id_cols=run.prepared.id_cols)[0])
    methods = list(default_methods(n_nodes, max_nodes) if methods is None else methods)
    for m in methods:
        if m == "auto":
            raise InputError("`methods` lists methods to compare, so it cannot contain 'auto'")
        check_method(m, n_nodes, max_nodes)
    if base is None and any(m != "bottom_up" for m in methods):
        base = aggregate_run(run, n_jobs=n_jobs, progress=progress)
    return _compare(run, base, methods, max_nodes, n_jobs=n_jobs)[0]


def choose_method(comparison: pd.DataFrame) -> str:
    """The reconciliation method with the lowest summed MASE (ties and NaN: ``bottom_up``)."""
    total = comparison[(comparison["level"] == "all levels") & (comparison["method"] != "base")]
    total = total.set_index("method")["mase"].dropna()
    if total.empty or "bottom_up" not in total:
        return "bottom_up"
    best = total.idxmin()
    return best if total[best] < total["bottom_up"] else "bottom_up"
