"""Sparse MinT (hierarchicalforecast's MinTraceSparse) for hierarchies above the dense limit: equal to the
dense MinTrace where both apply, the closed-form projection for WLS-var, coherent and non-negative."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast.hierarchy import reconcile_matrix, structure
from channelkit.forecast.reconcile import compare_reconciliation, reconcile

# The same small hierarchy and engine runs as the dense MinT tests (module-scoped fixture).
from test_forecast_reconcile_mint import PAIRS, runs  # noqa: F401


def _problem(pairs: pd.DataFrame, seed: int, periods: int = 4):
    """Summing matrix, base forecasts near coherent, and 60 observations of actuals and fits."""
    rng = np.random.default_rng(seed)
    nodes, S = structure(pairs)
    scale = np.sqrt(np.asarray(S.sum(axis=1)))
    y = S @ rng.poisson(5, (S.shape[1], 60)).astype(float)
    y_fit = y + rng.normal(0, 1.5, y.shape) * scale
    y_hat = np.clip(S @ rng.uniform(3, 8, (S.shape[1], periods)) + rng.normal(0, 1, (len(nodes), periods)), 0, None)
    return S, y_hat, y, y_fit


def _projection(S, y_hat, w):
    """Closed form S (S' W^-1 S)^-1 S' W^-1 y_hat for a diagonal W = diag(w)."""
    S = S.toarray()
    a = S.T / w
    return S @ np.linalg.solve(a @ S, a @ y_hat)


@pytest.mark.parametrize("method", ["ols", "wls_struct"])
@pytest.mark.parametrize("clash", [False, True])
def test_sparse_equals_dense_mintrace(method, clash):
    S, y_hat, y, y_fit = _problem(pd.DataFrame(PAIRS, columns=["sku", "channel"]), seed=3)
    if clash:  # aggregates far below a bottom forecast of 0: the projection goes negative
        y_hat[-1] = 0.0
        y_hat[:6] *= 0.2
    dense = reconcile_matrix(S, y_hat, method=method, y=y, y_fit=y_fit)
    ours = reconcile_matrix(S, y_hat, method=method, y=y, y_fit=y_fit, solver="sparse")
    free = reconcile_matrix(S, y_hat, method=method, nonnegative=False)
    assert (free.min() < -0.1) == clash
    # Without a binding bound both are the projection; with one, the same programme (the dense QP
    # rounds its solution to float32).
    np.testing.assert_allclose(ours, dense, rtol=1e-5 if clash else 1e-6, atol=1e-5 if clash else 1e-6)
    assert (ours >= 0).all() and (ours[-5:].min() < 1e-6) == clash
    np.testing.assert_allclose(ours[:-5], S[:-5] @ ours[-5:], rtol=1e-12)


def test_sparse_wls_var_is_the_projection_with_centred_variances():
    S, y_hat, y, y_fit = _problem(pd.DataFrame(PAIRS, columns=["sku", "channel"]), seed=4)
    e = y - y_fit
    ours = reconcile_matrix(S, y_hat, method="wls_var", y=y, y_fit=y_fit, solver="sparse")
    np.testing.assert_allclose(ours, _projection(S, y_hat, e.var(axis=1, ddof=1) + 2e-8), rtol=1e-6, atol=1e-6)
    # The dense MinTrace uses the uncentred mean square instead: the same projection, other weights.
    dense = reconcile_matrix(S, y_hat, method="wls_var", y=y, y_fit=y_fit)
    np.testing.assert_allclose(dense, _projection(S, y_hat, (e ** 2).mean(axis=1) + 2e-8), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("method", ["ols", "wls_struct", "wls_var"])
def test_sparse_reaches_the_optimum_of_the_nonnegative_programme(method):
    # 40 SKUs x 4 channels (80% of pairs), aggregates pulled down so that many bounds bind. The
    # programme is flat in some directions, so solutions may differ slightly; its optimum may not.
    rng = np.random.default_rng(8)
    pairs = pd.DataFrame({"sku": np.repeat([f"S{i:02d}" for i in range(40)], 4), "channel": np.tile(list("abcd"), 40)})
    S, y_hat, y, y_fit = _problem(pairs.sample(frac=0.8, random_state=1), seed=9, periods=3)
    n_bottom = S.shape[1]
    y_hat[:-n_bottom] *= rng.uniform(0.2, 0.8, (S.shape[0] - n_bottom, 1))
    y_hat[-n_bottom:][rng.random(n_bottom) < 0.3] = 0.0
    ours = reconcile_matrix(S, y_hat, method=method, y=y, y_fit=y_fit, solver="sparse")
    dense = reconcile_matrix(S, y_hat, method=method, y=y, y_fit=y_fit)
    assert (ours >= 0).all() and (ours[-n_bottom:] < 1e-6).sum() > 10
    np.testing.assert_allclose(ours[:-n_bottom], S[:-n_bottom] @ ours[-n_bottom:], rtol=1e-12)
    e = y - y_fit
    w = {"ols": np.ones(S.shape[0]), "wls_struct": np.asarray(S.sum(axis=1)).ravel(),
         "wls_var": e.var(axis=1, ddof=1) + 2e-8}[method]
    if method == "wls_var":
        dense = np.clip(_projection(S, y_hat, w), 0, None)  # any feasible point: the optimum is no worse
        dense = S @ dense[-n_bottom:]
    objective = lambda x: (((x - y_hat) ** 2) / w[:, None]).sum(axis=0)  # noqa: E731
    assert (objective(ours) <= objective(dense) * (1 + 1e-7)).all()


def test_sparse_errors():
    S, y_hat, y, y_fit = _problem(pd.DataFrame(PAIRS, columns=["sku", "channel"]), seed=3)
    with pytest.raises(InputError, match=r"`method='mint_shrink'` has no sparse solver .* use one of "
                                          r"\['ols', 'wls_struct', 'wls_var'\] or 'bottom_up'"):
        reconcile_matrix(S, y_hat, method="mint_shrink", y=y, y_fit=y_fit, solver="sparse")
    with pytest.raises(InputError, match="`solver` must be 'dense' or 'sparse', but got 'qr'"):
        reconcile_matrix(S, y_hat, method="ols", solver="qr")




@pytest.mark.parametrize("method", ["ols", "wls_struct", "wls_var"])
def test_run_above_max_nodes_uses_sparse_mint(runs, method):
    run, base = runs
    rec = reconcile(run, method=method, base=base, max_nodes=10)  # 11 nodes: sparse
    bottom = rec[rec["level"] == "sku/channel"]
    for level, keys in [("sku", ["sku"]), ("channel", ["channel"]), ("total", [])]:
        summed = bottom.groupby([*keys, "date"])["forecast"].sum().to_numpy()
        np.testing.assert_allclose(rec.loc[rec["level"] == level, "forecast"].to_numpy(), summed, rtol=1e-12)
    assert (rec["forecast"] >= 0).all() and (rec["lo_95"] <= rec["lo_80"]).all()
    assert (rec["lo_80"] <= rec["forecast"]).all() and (rec["forecast"] <= rec["hi_80"]).all()
    if method != "wls_var":  # same estimator as the dense MinTrace
        dense = reconcile(run, method=method, base=base)
        np.testing.assert_allclose(rec["forecast"], dense["forecast"], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(rec["hi_95"], dense["hi_95"], rtol=1e-5, atol=1e-4)


def test_auto_above_max_nodes_compares_sparse_methods(runs):
    run, base = runs
    rec = reconcile(run, method="auto", base=base, max_nodes=10)
    table = pd.DataFrame(rec.attrs["comparison"])
    assert table["method"].unique().tolist() == ["base", "bottom_up", "ols", "wls_struct", "wls_var"]
    assert set(table.loc[table["method"].isin(["ols", "wls_struct", "wls_var"]), "solver"]) == {"sparse"}
    total = table[(table["level"] == "all levels") & (table["method"] != "base")].set_index("method")["mase"]
    assert total.notna().all() and rec["method"].iloc[0] == total.idxmin()
    # The same table as the comparison function reports, and wls_struct's rows equal the dense run's.
    pd.testing.assert_frame_equal(compare_reconciliation(run, base=base, max_nodes=10), table)
    dense = compare_reconciliation(run, base=base, methods=("bottom_up", "wls_struct")).set_index(["level", "method"])
    sparse_rows = table.set_index(["level", "method"]).loc[dense.index]
    np.testing.assert_allclose(sparse_rows["mase"], dense["mase"], rtol=1e-5)
