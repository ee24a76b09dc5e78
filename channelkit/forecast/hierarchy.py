"""The SKU x channel hierarchy as matrices: nodes, summing matrix, and reconciliation by projection.

SKU and channel are *crossed*, not nested (a grouped hierarchy, FPP3 section 11.1): every bottom
series (one SKU in one channel) adds up to its SKU, to its channel and to the total. The nodes
are ordered as hierarchicalforecast orders them (aggregates first, the bottom level last, so the
bottom block of the summing matrix ``S`` is the identity):

    total | each value of id_cols[0] | each value of id_cols[1] | each bottom pair

and every node is named by ``level`` (``total``, ``sku``, ``channel``, ``sku/channel``) and the
two id columns, ``"(all)"`` where aggregated. ``S`` has one row per node and one column per
bottom series with ``S[i, j] = 1`` when bottom series ``j`` belongs to node ``i`` (the same
matrix as ``hierarchicalforecast.utils.aggregate`` with spec ``[[total], [total, sku],
[total, channel], [total, sku, channel]]``).

:func:`reconcile_matrix` maps base forecasts ``y_hat`` (nodes x periods) to coherent ones
``S P y_hat`` with hierarchicalforecast's reconcilers: ``BottomUp`` (``P = [0 | I]``) or
``MinTrace`` (``P = (S' W^-1 S)^-1 S' W^-1``; Wickramasuriya, Athanasopoulos & Hyndman 2019)
with ``W`` from the method: ``wls_struct`` (W = diag(S 1), the number of bottom series under
each node), ``wls_var`` (diagonal residual variances), ``mint_shrink`` (Schaefer-Strimmer
shrinkage of the residual covariance towards its diagonal), ``ols`` (W = I). Quantities cannot
be negative: when the projection gives a negative bottom forecast the problem is re-solved as
hierarchicalforecast's non-negative MinT (a quadratic programme, Wickramasuriya, Turlach &
Hyndman 2020) for the periods where it does; elsewhere the unconstrained solution is already that
programme's optimum (each period is a separate programme).

Large hierarchies (``solver="sparse"``): the dense reconcilers hold ``n_nodes x n_nodes`` matrices
(12,000 nodes: over a gigabyte each), so above a few thousand nodes ``ols``, ``wls_struct`` and
``wls_var`` run on hierarchicalforecast's ``MinTraceSparse`` (diagonal ``W``, sparse ``S``, never
formed densely). With ``nonnegative=True`` every period is solved as its non-negative quadratic
programme (Clarabel on the sparse constraints, about 0.5 s per period at 12,000 nodes): where the
projection is already >= 0 that optimum *is* the projection, to the solver's tolerance (~1e-7),
whereas ``MinTraceSparse``'s unconstrained path (BiCGSTAB stopped at a 1e-5 residual) can be off by
10% on a grouped hierarchy; that path is used only for ``nonnegative=False``. ``mint_shrink`` needs
the full covariance and has no sparse form. One convention differs from the dense ``wls_var``:
``MinTraceSparse`` estimates each node's variance as ``var(e, ddof=1) + 2e-8`` (centred), the dense
``MinTrace`` as ``mean(e^2) + 2e-8`` (uncentred); both are hierarchicalforecast's own choices.
"""
from __future__ import annotations

import warnings
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from channelkit.errors import InputError

ALL = "(all)"
LEVEL = "level"
Method = Literal["bottom_up", "ols", "wls_struct", "wls_var", "mint_shrink"]
MINT_METHODS = ("ols", "wls_struct", "wls_var", "mint_shrink")
SPARSE_METHODS = ("ols", "wls_struct", "wls_var")
Solver = Literal["dense", "sparse"]


def check_id_cols(id_cols: Sequence[str]) -> list[str]:
    """The two id columns of the grouped hierarchy (raises :class:`InputError` otherwise)."""
    if len(id_cols) != 2:
        raise InputError("`id_cols` must name two columns (e.g. ('sku', 'channel')) to reconcile, "
                         f"but got {list(id_cols)}")
    return list(id_cols)


def level_keys(id_cols: Sequence[str]) -> list[tuple[str, list[str]]]:
    """``(level name, grouping columns)`` from the bottom up: ``a/b``, ``a``, ``b``, ``total``."""
    a, b = check_id_cols(id_cols)
    return [(f"{a}/{b}", [a, b]), (a, [a]), (b, [b]), ("total", [])]


def aggregate(frame: pd.DataFrame, values: Sequence[str], *, id_cols: Sequence[str] = ("sku", "channel"),
              date_col: str = "date", extra_keys: Sequence[str] = ()) -> pd.DataFrame:
    """Sum ``values`` of a bottom-level frame to every node of the hierarchy.

    Returns ``level``, the id columns (``"(all)"`` where aggregated), ``extra_keys``,
    ``date_col`` and ``values``; levels in the order bottom, ``id_cols[0]``, ``id_cols[1]``,
    total, rows sorted by key within a level.
    """
    parts = []
    for name, keys in level_keys(id_cols):
        g = frame.groupby([*keys, *extra_keys, date_col], observed=True, sort=True)[list(values)].sum().reset_index()
        for col in id_cols:
            if col not in keys:
                g[col] = ALL
        parts.append(g.assign(**{LEVEL: name}))
    out = pd.concat(parts, ignore_index=True)
    return out[[LEVEL, *id_cols, *extra_keys, date_col, *values]]


def structure(bottom: pd.DataFrame, *,
              id_cols: Sequence[str] = ("sku", "channel")) -> tuple[pd.DataFrame, sparse.csr_matrix]:
    """Nodes (``level`` and the id columns, in hierarchicalforecast's order) and the summing matrix ``S``.

    ``bottom`` lists the bottom series (one row per id pair; extra columns and duplicates are
    ignored). ``S`` is a sparse ``(n_nodes, n_bottom)`` matrix of 0/1 (``S.toarray()`` for a
    dense one); see the module docstring.
    """
    a, b = check_id_cols(id_cols)
    pairs = bottom[[a, b]].drop_duplicates().sort_values([a, b]).reset_index(drop=True)
    if pairs.empty:
        raise InputError("the hierarchy needs at least one bottom series, but `bottom` is empty")
    a_vals, b_vals = np.sort(pairs[a].unique()), np.sort(pairs[b].unique())
    nodes = pd.concat([
        pd.DataFrame({LEVEL: ["total"], a: [ALL], b: [ALL]}),
        pd.DataFrame({LEVEL: a, a: a_vals, b: ALL}),
        pd.DataFrame({LEVEL: b, a: ALL, b: b_vals}),
        pairs.assign(**{LEVEL: f"{a}/{b}"})[[LEVEL, a, b]],
    ], ignore_index=True)
    # Sparse: with 10,000 bottom series a dense S would take a gigabyte; each column has 4 ones.
    m = len(pairs)
    cols = np.arange(m)
    rows = np.concatenate([np.zeros(m, dtype=int), 1 + np.searchsorted(a_vals, pairs[a].to_numpy()),
                           1 + len(a_vals) + np.searchsorted(b_vals, pairs[b].to_numpy()),
                           1 + len(a_vals) + len(b_vals) + cols])
    S = sparse.csr_matrix((np.ones(4 * m), (rows, np.tile(cols, 4))), shape=(len(nodes), m))
    return nodes, S


def to_matrix(frame: pd.DataFrame, nodes: pd.DataFrame, columns: pd.MultiIndex | pd.Index, *, value: str,
              id_cols: Sequence[str], col_keys: Sequence[str]) -> np.ndarray:
    """Pivot a long per-node frame to a ``(n_nodes, len(columns))`` array (NaN where absent).

    Rows follow ``nodes``; columns are the values of ``col_keys`` (e.g. ``cutoff, date``)
    listed in ``columns``.
    """
    keys = [LEVEL, *id_cols]
    wide = frame.pivot_table(index=keys, columns=list(col_keys), values=value, aggfunc="first", dropna=False)
    row_index = pd.MultiIndex.from_frame(nodes[keys])
    return wide.reindex(index=row_index, columns=columns).to_numpy(dtype=float)


def _mint(S: np.ndarray | sparse.csr_matrix, y_hat: np.ndarray, method: str, y: np.ndarray | None,
          y_fit: np.ndarray | None, nonnegative: bool, solver: Solver = "dense", n_jobs: int = 1) -> np.ndarray:
    """hierarchicalforecast's ``MinTrace`` (dense ``S``) or ``MinTraceSparse`` (sparse ``S``), all nodes."""
    from hierarchicalforecast.methods import MinTrace, MinTraceSparse

    if solver == "sparse":
        reconciler = MinTraceSparse(method=method, nonnegative=nonnegative, num_threads=n_jobs)
    else:
        reconciler = MinTrace(method=method, nonnegative=nonnegative, num_threads=n_jobs)
    try:
        with warnings.catch_warnings():
            # qpsolvers notes that it converts the dense QP matrices to sparse for clarabel.
            warnings.simplefilter("ignore", category=Warning)
            out = reconciler.fit_predict(S=S, y_hat=y_hat, y_insample=y, y_hat_insample=y_fit)["mean"]
    except Exception as exc:  # hierarchicalforecast raises bare Exception for ill-conditioned problems
        raise InputError(f"MinT reconciliation (`method={method!r}`, {solver}) failed: {exc}") from exc
    return np.asarray(out, dtype=float)


def _check_matrix_args(S: sparse.spmatrix | np.ndarray, y_hat: np.ndarray, method: str, solver: str,
                       y: np.ndarray | None, y_fit: np.ndarray | None) -> None:
    n_nodes = S.shape[0]
    if y_hat.shape[0] != n_nodes or np.isnan(y_hat).any():
        raise InputError(f"`y_hat` must have {n_nodes} rows (one per node) and no NaN, but got shape {y_hat.shape}")
    if method not in ("bottom_up", *MINT_METHODS):
        raise InputError(f"`method` must be one of {['bottom_up', *MINT_METHODS]}, but got {method!r}")
    if solver not in ("dense", "sparse"):
        raise InputError(f"`solver` must be 'dense' or 'sparse', but got {solver!r}")
    if solver == "sparse" and method not in ("bottom_up", *SPARSE_METHODS):
        raise InputError(f"`method={method!r}` has no sparse solver (it needs the full covariance); "
                         f"use one of {list(SPARSE_METHODS)} or 'bottom_up'")
    if method in ("wls_var", "mint_shrink") and (y is None or y_fit is None):
        raise InputError(f"`method={method!r}` needs residuals: pass `y` and `y_fit`")


def reconcile_matrix(S: np.ndarray | sparse.spmatrix, y_hat: np.ndarray, *, method: Method = "bottom_up",
                     y: np.ndarray | None = None, y_fit: np.ndarray | None = None,
                     nonnegative: bool = True, solver: Solver = "dense", n_jobs: int = 1) -> np.ndarray:
    """Coherent forecasts ``S b`` for base forecasts ``y_hat`` (nodes x periods, rows as ``S``).

    ``y`` and ``y_fit`` (nodes x observations) are the actuals and base forecasts whose
    differences estimate ``W`` for ``wls_var``/``mint_shrink`` (hierarchicalforecast's
    ``y_insample``/``y_hat_insample``). With ``nonnegative=True`` the bottom forecasts are
    constrained to be >= 0 (see the module docstring). ``solver="sparse"`` runs
    ``MinTraceSparse`` (``ols``, ``wls_struct``, ``wls_var``; ``n_jobs`` threads for its
    non-negative programmes) instead of the dense ``MinTrace``. The aggregates are always
    recomputed as ``S @ bottom`` so that they add up exactly.
    """
    y_hat = np.asarray(y_hat, dtype=float)
    _check_matrix_args(S, y_hat, method, solver, y, y_fit)
    n_bottom = S.shape[1]
    if method == "bottom_up":
        return np.asarray(S @ y_hat[-n_bottom:])
    if solver == "sparse":
        # MinTraceSparse's non-negative programme is solved to Clarabel's tolerance; its unconstrained
        # path (BiCGSTAB, 1e-5 residual) can be off by 1e-1 on grouped hierarchies, so every period
        # goes through the programme, whose optimum is the plain projection when that is >= 0.
        bottom = _mint(sparse.csr_matrix(S, dtype=float), y_hat, method, y, y_fit, nonnegative=nonnegative,
                       solver="sparse", n_jobs=n_jobs)[-n_bottom:]
        return np.asarray(S @ (np.clip(bottom, 0, None) if nonnegative else bottom))
    # hierarchicalforecast's MinTrace works on dense matrices.
    S = S.toarray() if sparse.issparse(S) else np.asarray(S, dtype=float)
    bottom = _mint(S, y_hat, method, y, y_fit, nonnegative=False)[-n_bottom:]
    neg = (bottom < 0).any(axis=0)
    if nonnegative and neg.any():
        # Each period is its own programme: only periods whose projection went negative need it.
        qp = _mint(S, np.clip(y_hat[:, neg], 0, None), method, y, y_fit, nonnegative=True, n_jobs=n_jobs)[-n_bottom:]
        bottom[:, neg] = np.clip(qp, 0, None)
    return np.asarray(S @ bottom)
