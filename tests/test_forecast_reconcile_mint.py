"""MinT reconciliation of the SKU x channel hierarchy: hierarchicalforecast agreement, a hand-worked
WLS example, coherence, non-negativity, and the backtest choice between bottom-up and MinT."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast import run_forecast
from channelkit.forecast.hierarchy import ALL, reconcile_matrix, structure
from channelkit.forecast.reconcile import (aggregate_run, compare_reconciliation, engine_options,
                                           hierarchy_backtest, reconcile)

PAIRS = [("A", "jd"), ("A", "tmall"), ("B", "jd"), ("B", "tmall"), ("B", "store")]


def _hf_frames(values: np.ndarray, nodes: pd.DataFrame, dates: pd.DatetimeIndex, col: str) -> pd.DataFrame:
    """Long hierarchicalforecast frame (unique_id, ds, col) for a nodes x dates array."""
    names = ["total" if r.level == "total" else "/".join(["total", *[v for v in (r.sku, r.channel) if v != ALL]])
             for r in nodes.itertuples()]
    return pd.DataFrame({"unique_id": np.repeat(names, len(dates)), "ds": np.tile(dates, len(names)),
                         col: values.ravel()})


def test_structure_is_hierarchicalforecast_grouped_summing_matrix():
    from hierarchicalforecast.utils import aggregate

    bottom = pd.DataFrame(PAIRS, columns=["sku", "channel"])
    nodes, S = structure(bottom)
    assert nodes["level"].tolist() == ["total", "sku", "sku", "channel", "channel", "channel"] + ["sku/channel"] * 5
    df = bottom.assign(total="total", ds=pd.Timestamp("2025-01-01"), y=1.0)
    _, S_df, _ = aggregate(df, [["total"], ["total", "sku"], ["total", "channel"], ["total", "sku", "channel"]])
    ref = S_df.set_index("unique_id")
    ref = ref.loc[_hf_frames(np.zeros((len(nodes), 1)), nodes, pd.DatetimeIndex(["2025-01-01"]), "y")["unique_id"]]
    np.testing.assert_array_equal(S.toarray(), ref[[f"total/{s}/{c}" for s, c in sorted(PAIRS)]].to_numpy())


def test_wls_struct_hand_worked_example():
    # One SKU in two channels: nodes total, A, jd, tmall, A/jd, A/tmall; W = diag(2, 2, 1, 1, 1, 1).
    # Base forecasts: both aggregates 10, each channel 4 (jd) and 5 (tmall) at both its levels.
    # Minimise (10 - b1 - b2)^2 + 2 (4 - b1)^2 + 2 (5 - b2)^2: 3 b1 + b2 = 18, b1 + 3 b2 = 20,
    # so b = (4.25, 5.25) and the total 9.5.
    nodes, S = structure(pd.DataFrame({"sku": ["A", "A"], "channel": ["jd", "tmall"]}))
    y_hat = np.array([[10.0], [10.0], [4.0], [5.0], [4.0], [5.0]])
    rec = reconcile_matrix(S, y_hat, method="wls_struct")
    np.testing.assert_allclose(rec[:, 0], [9.5, 9.5, 4.25, 5.25, 4.25, 5.25])
    np.testing.assert_allclose(reconcile_matrix(S, y_hat, method="bottom_up")[:, 0], [9, 9, 4, 5, 4, 5])


@pytest.mark.parametrize("method", ["mint_shrink", "wls_struct"])
@pytest.mark.parametrize("clash", [False, True])
def test_mint_equals_hierarchicalforecast_reconcile(method, clash):
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import MinTrace
    from hierarchicalforecast.utils import aggregate

    rng = np.random.default_rng(3)
    nodes, S = structure(pd.DataFrame(PAIRS, columns=["sku", "channel"]))
    S = S.toarray()
    bottom_y = rng.poisson([[4], [9], [2], [6], [1]], size=(5, 60)).astype(float)
    y = S @ bottom_y
    y_fit = y + rng.normal(0, 1.5, y.shape) * np.sqrt(S.sum(axis=1, keepdims=True))
    y_hat = S @ rng.uniform(1, 8, (5, 4)) + rng.normal(0, 2, (len(nodes), 4))
    if clash:  # aggregates far below a bottom forecast of 0: the projection goes negative
        y_hat[-1] = 0.0
        y_hat[:6] *= 0.2
    y_hat = np.clip(y_hat, 0, None)
    ours = reconcile_matrix(S, y_hat, method=method, y=y, y_fit=y_fit)
    hist_dates = pd.date_range("2025-01-01", periods=60)
    fut_dates = pd.date_range("2025-03-02", periods=4)
    Y_df = _hf_frames(y, nodes, hist_dates, "y").assign(base=_hf_frames(y_fit, nodes, hist_dates, "v")["v"])
    Y_hat_df = _hf_frames(y_hat, nodes, fut_dates, "base")
    bottom = pd.DataFrame(PAIRS, columns=["sku", "channel"]).assign(total="total", ds=hist_dates[0], y=1.0)
    _, S_df, tags = aggregate(bottom, [["total"], ["total", "sku"], ["total", "channel"], ["total", "sku", "channel"]])
    hrec = HierarchicalReconciliation([MinTrace(method=method, nonnegative=True)])
    with warnings.catch_warnings():  # qpsolvers' note on dense-to-sparse conversion
        warnings.simplefilter("ignore")
        ref = hrec.reconcile(Y_hat_df=Y_hat_df, Y_df=Y_df, S_df=S_df, tags=tags)
    ref_col = [c for c in ref.columns if c.startswith("base/")][0]
    ref = ref.set_index(["unique_id", "ds"])[ref_col].unstack("ds").loc[Y_hat_df["unique_id"].unique()].to_numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)  # the QP path rounds to float32
    free = MinTrace(method=method).fit_predict(S=S, y_hat=y_hat, y_insample=y, y_hat_insample=y_fit)["mean"]
    assert (free.min() < -0.1) == clash  # the unconstrained projection goes negative only in the clash
    assert (ours >= 0).all() and (ours[-5:].min() < 1e-6) == clash
    np.testing.assert_allclose(ours[:-5], S[:-5] @ ours[-5:], rtol=1e-12)


def test_reconcile_matrix_errors():
    nodes, S = structure(pd.DataFrame(PAIRS, columns=["sku", "channel"]))
    with pytest.raises(InputError, match=r"`y_hat` must have 11 rows \(one per node\) and no NaN, "
                                          r"but got shape \(3, 2\)"):
        reconcile_matrix(S, np.ones((3, 2)))
    with pytest.raises(InputError, match="`method='mint_shrink'` needs residuals: pass `y` and `y_fit`"):
        reconcile_matrix(S, np.ones((11, 2)), method="mint_shrink")
    with pytest.raises(InputError, match=r"`method` must be one of \['bottom_up', 'ols', 'wls_struct', 'wls_var', "
                                          r"'mint_shrink'\], but got 'top_down'"):
        reconcile_matrix(S, np.ones((11, 2)), method="top_down")
    with pytest.raises(InputError, match=r"`id_cols` must name two columns .* but got \['sku'\]"):
        structure(pd.DataFrame(PAIRS, columns=["sku", "channel"]), id_cols=("sku",))


@pytest.fixture(scope="module")
def runs():
    rng = np.random.default_rng(11)
    dates = pd.date_range("2025-01-06", periods=126)
    week = 1 + 0.4 * np.sin(2 * np.pi * np.arange(len(dates)) / 7)
    panel = pd.concat([pd.DataFrame({"date": dates, "sku": s, "channel": c, "units": rng.poisson(lam * week)})
                       for (s, c), lam in zip(PAIRS, [5, 8, 1.5, 3, 0.6])])
    run = run_forecast(panel, horizon=7, n_jobs=1, progress=False, models=("ets", "croston"))
    return run, aggregate_run(run)


def test_engine_options_and_aggregate_run(runs):
    run, base = runs
    # The engine stores its options on the run; the aggregate run repeats them exactly.
    # (Compared key by key: the engine may store more options, e.g. the interval method.)
    expected = {"horizon": 7, "levels": (80.0, 95.0), "freq": "D", "n_windows": 3, "step": 7,
                "models": ("ets", "croston"), "returns": "clip", "festival_adjust": True,
                "festival_pool": "channel", "input_size": "auto"}
    assert {k: engine_options(run).get(k) for k in expected} == expected
    assert base.options == engine_options(run)
    # The aggregate run forecasts the 2 SKUs, 3 channels and the total, from the summed history.
    keys = set(map(tuple, base.forecast[["sku", "channel"]].drop_duplicates().to_numpy()))
    assert keys == {("A", ALL), ("B", ALL), (ALL, "jd"), (ALL, "tmall"), (ALL, "store"), (ALL, ALL)}
    total = base.history[(base.history["sku"] == ALL) & (base.history["channel"] == ALL)].set_index("date")["units"]
    pd.testing.assert_series_equal(total, run.history.groupby("date")["units"].sum(), check_names=False)


def test_hierarchy_backtest_lines_up_actuals_and_forecasts(runs):
    run, base = runs
    bt = hierarchy_backtest(run, base)
    np.testing.assert_allclose(bt.y[:-5], bt.S[:-5] @ bt.y[-5:])  # actuals add up
    ref = run.backtest.set_index(["sku", "channel", "cutoff", "date"])
    for i, (s, c) in enumerate(sorted(PAIRS)):
        if (s, c) in ref.index.droplevel([2, 3]):
            np.testing.assert_allclose(bt.y_hat[6 + i], ref.loc[(s, c), "forecast"].to_numpy())
            np.testing.assert_allclose(bt.y[6 + i], ref.loc[(s, c), "actual"].to_numpy())
    tot = base.backtest[(base.backtest["sku"] == ALL) & (base.backtest["channel"] == ALL)]
    np.testing.assert_allclose(bt.y_hat[0], tot.sort_values(["cutoff", "date"])["forecast"].to_numpy())


def test_series_too_short_to_backtest_get_the_short_history_rule():
    rng = np.random.default_rng(2)
    dates = pd.date_range("2025-01-06", periods=84)
    panel = pd.concat([pd.DataFrame({"date": dates, "sku": "A", "channel": c, "units": rng.poisson(6, 84)})
                       for c in ("jd", "tmall")] + [pd.DataFrame({"date": dates[-9:], "sku": "N", "channel": "jd",
                                                                   "units": [3, 0, 5, 1, 2, 4, 0, 6, 2]})])
    run = run_forecast(panel, horizon=7, n_jobs=1, progress=False, models=("ets",))
    assert set(run.backtest["sku"]) == {"A"}  # the new SKU is too short to backtest
    bt = hierarchy_backtest(run)
    row = bt.nodes.index[(bt.nodes["level"] == "sku/channel") & (bt.nodes["sku"] == "N")][0]
    # Cutoffs are 21, 14 and 7 days before the end; N sells from 8 days before the end, so it has
    # no history at the first two and two days (3, 0) at the last: forecasts 0, 0 and 1.5.
    np.testing.assert_allclose(bt.y_hat[row], [0.0] * 14 + [1.5] * 7)
    np.testing.assert_allclose(bt.y[row], [0.0] * 12 + [3, 0, 5, 1, 2, 4, 0, 6, 2])
    np.testing.assert_allclose(bt.y_hat[0], bt.y_hat[-3:].sum(axis=0))  # bottom-up total includes it
    rec = reconcile(run)
    total = rec[rec["level"] == "total"]["forecast"].to_numpy()
    np.testing.assert_allclose(total, run.forecast.groupby("date")["forecast"].sum().to_numpy())


@pytest.mark.parametrize("method", ["bottom_up", "wls_struct", "mint_shrink"])
def test_reconciled_levels_add_up_and_stay_nonnegative(runs, method):
    run, base = runs
    rec = reconcile(run, method=method, base=base)
    assert (rec["method"] == method).all()
    bottom = rec[rec["level"] == "sku/channel"]
    for level, keys in [("sku", ["sku"]), ("channel", ["channel"]), ("total", [])]:
        summed = bottom.groupby([*keys, "date"])["forecast"].sum().to_numpy()
        np.testing.assert_allclose(rec.loc[rec["level"] == level, "forecast"].to_numpy(), summed, rtol=1e-12)
    assert (rec["forecast"] >= 0).all() and (rec["lo_80"] >= 0).all()
    assert (rec["lo_95"] <= rec["lo_80"]).all() and (rec["lo_80"] <= rec["forecast"]).all()
    assert (rec["forecast"] <= rec["hi_80"]).all() and (rec["hi_80"] <= rec["hi_95"] + 1e-9).all()
    if method == "bottom_up":
        cols = ["sku", "channel", "date", "forecast", "lo_80", "hi_95"]
        pd.testing.assert_frame_equal(bottom[cols].reset_index(drop=True), run.forecast[cols])
    else:
        # MinT moves the bottom forecasts towards the aggregates' own forecasts.
        assert not np.allclose(bottom["forecast"].to_numpy(), run.forecast["forecast"].to_numpy())


def _doctor(base, how):
    """A copy of the aggregate run whose backtest forecasts are near-perfect or badly biased."""
    bt = base.backtest.copy()
    rng = np.random.default_rng(0)
    bt["forecast"] = bt["actual"] * rng.uniform(0.98, 1.02, len(bt)) if how == "good" else 3 * bt["actual"] + 20
    return type(base)(**{**base.__dict__, "backtest": bt})


def test_auto_picks_mint_when_aggregate_forecasts_are_far_better(runs):
    run, base = runs
    table = compare_reconciliation(run, base=_doctor(base, "good"))
    t = table.set_index(["level", "method"])["mase"]
    assert t[("total", "mint_shrink")] < 0.5 * t[("total", "bottom_up")]
    assert t[("all levels", "mint_shrink")] < t[("all levels", "bottom_up")]
    rec = reconcile(run, method="auto", base=_doctor(base, "good"))
    assert rec["method"].iloc[0] in ("mint_shrink", "wls_struct")
    chosen = pd.DataFrame(rec.attrs["comparison"]).query("level == 'all levels' and method != 'base'")
    assert rec["method"].iloc[0] == chosen.loc[chosen["mase"].idxmin(), "method"]


def test_auto_keeps_bottom_up_when_aggregate_forecasts_are_biased(runs):
    run, base = runs
    rec = reconcile(run, method="auto", base=_doctor(base, "bad"))
    table = pd.DataFrame(rec.attrs["comparison"]).set_index(["level", "method"])["mase"]
    assert table[("all levels", "bottom_up")] < table[("all levels", "wls_struct")]
    assert table[("all levels", "bottom_up")] < table[("all levels", "mint_shrink")]
    assert (rec["method"] == "bottom_up").all()
    pd.testing.assert_frame_equal(rec.drop(columns="method"), reconcile(run, base=base).drop(columns="method"))


def test_reconcile_errors(runs):
    run, base = runs
    with pytest.raises(InputError, match=r"`method` must be one of \['bottom_up', 'ols', 'wls_struct', 'wls_var', "
                                          r"'mint_shrink', 'auto'\], but got 'top_down'"):
        reconcile(run, method="top_down")
    with pytest.raises(InputError, match="`methods` lists methods to compare, so it cannot contain 'auto'"):
        compare_reconciliation(run, base=base, methods=("bottom_up", "auto"))
    with pytest.raises(InputError, match=r"`method='mint_shrink'` needs dense 11 x 11 matrices "
                                          r"\(more than `max_nodes`=10\)"):
        reconcile(run, method="mint_shrink", base=base, max_nodes=10)
    # Above max_nodes `auto` compares bottom-up with the sparse MinT methods (no silent fallback).
    table = pd.DataFrame(reconcile(run, method="auto", base=base, max_nodes=10).attrs["comparison"])
    assert table["method"].unique().tolist() == ["base", "bottom_up", "ols", "wls_struct", "wls_var"]
    assert set(table.loc[table["method"] != "bottom_up", "solver"]) <= {"sparse", ""}
    with pytest.raises(InputError, match=r"`method='mint_shrink'` needs dense .* no sparse form; use one of "
                                          r"\['bottom_up', 'ols', 'wls_struct', 'wls_var'\]"):
        compare_reconciliation(run, base=base, methods=("bottom_up", "mint_shrink"), max_nodes=10)
    with pytest.raises(InputError, match=r"`base` must be backtested at the run's cutoffs \['2025-04-20', "):
        reconcile(run, method="wls_struct", base=aggregate_run(run, n_windows=1))
    short = run_forecast(run.history[run.history["date"] >= "2025-04-20"], horizon=7, n_jobs=1, progress=False,
                         models=("ets",))
    with pytest.raises(InputError, match="`method='wls_struct'` needs the run's backtest errors, but no series"):
        reconcile(short, method="wls_struct")
    # Without a backtest, bottom-up still adds up; aggregate bounds are the sums of the bottom bounds.
    rec = reconcile(short, method="auto")
    assert (rec["method"] == "bottom_up").all() and "comparison" not in rec.attrs
    total = rec[rec["level"] == "total"]
    np.testing.assert_allclose(total["forecast"], short.forecast.groupby("date")["forecast"].sum())
    np.testing.assert_allclose(total["hi_95"], short.forecast.groupby("date")["hi_95"].sum())


def test_run_level_mint_equals_hierarchicalforecast_on_the_backtest_residuals(runs):
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import MinTrace
    from hierarchicalforecast.utils import aggregate

    run, base = runs
    rec = reconcile(run, method="mint_shrink", base=base)
    bt = hierarchy_backtest(run, base)
    # hierarchicalforecast's input: base forecasts of every node, and as Y_df the backtest actuals
    # with the backtest forecasts as the "in-sample" fitted values (one pseudo-period per cutoff x date).
    both = pd.concat([run.forecast, base.forecast])
    ids = ["total" if (s, c) == (ALL, ALL) else "/".join(["total", *[v for v in (s, c) if v != ALL]])
           for s, c in zip(both["sku"], both["channel"])]
    Y_hat_df = pd.DataFrame({"unique_id": ids, "ds": both["date"].to_numpy(), "base": both["forecast"].to_numpy()})
    steps = pd.RangeIndex(bt.y.shape[1])
    Y_df = _hf_frames(bt.y, bt.nodes, steps, "y").assign(base=_hf_frames(bt.y_hat, bt.nodes, steps, "v")["v"])
    Y_df["ds"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(Y_df["ds"], unit="D")
    bottom = run.forecast[["sku", "channel"]].drop_duplicates().assign(total="total", ds=Y_df["ds"].iloc[0], y=1.0)
    _, S_df, tags = aggregate(bottom, [["total"], ["total", "sku"], ["total", "channel"], ["total", "sku", "channel"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = HierarchicalReconciliation([MinTrace(method="mint_shrink", nonnegative=True)]).reconcile(
            Y_hat_df=Y_hat_df, Y_df=Y_df, S_df=S_df, tags=tags)
    ref = ref.set_index(["unique_id", "ds"])[[c for c in ref.columns if c.startswith("base/")][0]]
    ours = rec.assign(unique_id=["total" if lv == "total" else "/".join(["total", *[v for v in (s, c) if v != ALL]])
                                 for lv, s, c in zip(rec["level"], rec["sku"], rec["channel"])])
    ours = ours.set_index(["unique_id", "date"])["forecast"]
    np.testing.assert_allclose(ours.to_numpy(), ref.loc[ours.index].to_numpy(), rtol=1e-5, atol=1e-5)
