"""From backtest errors to each series' forecast: the engine's ``selection`` rules.

Every rule turns the rolling-origin backtest into per-series *weights* over the candidate
columns (rows sum to 1); the series' forecast, in the backtest and in the future, is the
weighted sum of the candidates. With ``MAE_ij`` the backtest mean absolute error of candidate
``j`` on series ``i``:

- ``"best"``: all weight on the lowest ``MAE_ij`` (ties to the earlier candidate). The classic
  per-series choice; with 2-3 backtest windows it chases noise (Fildes & Petropoulos 2015).
- ``"shrink"``: all weight on the lowest shrunk score ``s_ij = (w r_ij + lam R_j) / (w + lam)``,
  where ``r_ij = MAE_ij / mean_j MAE_ij`` is the error relative to the series' average candidate
  (scale-free, so series can be pooled), ``R_j = mean_i r_ij`` the pooled relative error of
  candidate ``j``, ``w`` the number of backtest windows and ``lam = 2`` (the pooled choice counts
  as two windows of evidence). Few windows pull the choice toward the model that is best overall.
- ``"combo"`` (the default): the equal-weight mean of the ``top_k`` (default 3) candidates with
  the lowest ``MAE_ij``, ``ensemble`` excluded (it is itself a mean of the members). Combining
  the best few models is the robust choice of the forecasting literature (Clemen 1989; the M4
  and M5 competitions, where combinations beat the single models they combined); ``top_k=1`` is
  ``"best"`` without ``ensemble``.

Worked example (``tests/test_forecast_selection.py``): one series, actuals ``[10, 12]``, candidates
``a = [9, 13]`` (MAE 1), ``b = [12, 12]`` (MAE 1), ``c = [6, 6]`` (MAE 5): ``combo`` with ``top_k=2``
weights ``a`` and ``b`` by 1/2 each, backtest forecast ``[10.5, 12.5]``, MAE 0.5.

The output of :func:`describe`: one row per series with ``model`` (the candidate, or ``"combo"``
for a combination of several), ``members`` (``"a+b"``) and ``mae`` (backtest MAE of the result).
"""
from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError
from channelkit.forecast.frames import UID, Y
from channelkit.forecast.models import ENSEMBLE

Selection = Literal["combo", "shrink", "best"]
SELECTIONS: tuple[str, ...] = ("combo", "shrink", "best")
COMBO = "combo"
SHRINK_PRIOR = 2.0


def check_selection(selection: object, top_k: object) -> tuple[str, int]:
    """Validate ``selection`` (one of :data:`SELECTIONS`) and ``top_k`` (an integer >= 1)."""
    if not isinstance(selection, str) or selection not in SELECTIONS:
        raise InputError(f"`selection` must be one of {list(SELECTIONS)}, but got {selection!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise InputError(f"`top_k` must be an integer >= 1, but got {top_k!r}")
    return selection, int(top_k)


def backtest_mae(cv: pd.DataFrame, candidates: Sequence[str]) -> pd.DataFrame:
    """``MAE_ij``: series (index) x candidates, NaN where a candidate never forecast."""
    cand = [c for c in candidates if c in cv.columns]
    return cv[cand].sub(cv[Y], axis=0).abs().groupby(cv[UID], observed=True).mean()


def shrunk_scores(mae: pd.DataFrame, n_windows: int, *, prior: float = SHRINK_PRIOR) -> pd.DataFrame:
    """``s_ij`` of the module doc: relative errors shrunk toward their pooled mean."""
    avg = mae.mean(axis=1, skipna=True)
    rel = mae.div(avg.where(avg > 0), axis=0)
    rel.loc[(avg <= 0).to_numpy()] = 1.0  # a series every candidate fits exactly: no preference
    rel = rel.where(mae.notna())
    pooled = rel.mean(axis=0, skipna=True)
    return (n_windows * rel + prior * pooled) / (n_windows + prior)


def _one_hot(scores: pd.DataFrame) -> pd.DataFrame:
    best = scores.fillna(np.inf).to_numpy().argmin(axis=1)
    w = np.zeros(scores.shape)
    w[np.arange(len(scores)), best] = 1.0
    return pd.DataFrame(w, index=scores.index, columns=scores.columns)


def _top_k(mae: pd.DataFrame, k: int) -> pd.DataFrame:
    cols = [c for c in mae.columns if c != ENSEMBLE]
    err = mae[cols].fillna(np.inf).to_numpy()
    order = np.argsort(err, axis=1, kind="stable")[:, :k]
    w = np.zeros(mae.shape)
    pos = np.array([mae.columns.get_loc(c) for c in cols])
    for r in range(len(mae)):
        take = [j for j in order[r] if np.isfinite(err[r, j])] or [order[r][0]]
        w[r, pos[take]] = 1.0 / len(take)
    return pd.DataFrame(w, index=mae.index, columns=mae.columns)


def weights(cv: pd.DataFrame, candidates: Sequence[str], *, selection: Selection = "combo", top_k: int = 3,
            n_windows: int | None = None) -> pd.DataFrame:
    """Per-series candidate weights from the backtest ``cv`` by the rule ``selection`` (module doc)."""
    selection, top_k = check_selection(selection, top_k)
    mae = backtest_mae(cv, candidates)
    if selection == "best":
        return _one_hot(mae)
    if selection == "shrink":
        w = n_windows if n_windows is not None else int(cv.groupby(UID, observed=True)["cutoff"].nunique().max())
        return _one_hot(shrunk_scores(mae, w))
    return _top_k(mae, top_k)


def combine(frame: pd.DataFrame, w: pd.DataFrame) -> np.ndarray:
    """Row by row, the weighted sum of the candidate columns with the row's series' weights.

    A member that has no forecast in a row (NaN) is left out and the others' weights rescaled.
    """
    W = w.reindex(frame[UID].to_numpy()).to_numpy()
    F = frame[list(w.columns)].to_numpy(dtype=float)
    ok = np.isfinite(F) & (W > 0)
    num = np.where(ok, W * np.nan_to_num(F), 0.0).sum(axis=1)
    den = np.where(ok, W, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def describe(w: pd.DataFrame) -> pd.DataFrame:
    """``unique_id, model, members``: the single candidate's name, or ``combo`` and its members."""
    cols = np.asarray(w.columns)
    members = ["+".join(cols[row > 0]) for row in w.to_numpy()]
    model = [m if "+" not in m else COMBO for m in members]
    return pd.DataFrame({UID: w.index.to_numpy(), "model": model, "members": members})


def weights_long(w: pd.DataFrame) -> pd.DataFrame:
    """The non-zero weights as ``unique_id, candidate, weight`` rows."""
    long = w.rename_axis(UID).reset_index().melt(id_vars=UID, var_name="candidate", value_name="weight")
    return long[long["weight"] > 0].sort_values([UID, "candidate"]).reset_index(drop=True)
