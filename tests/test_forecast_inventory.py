"""Reorder advice by the documented formulas, from the engine's forecasts or from reconciled ones
(whose reorder quantities then add up with the reconciled totals)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from channelkit.errors import InputError
from channelkit.forecast import reconcile, reorder_advice, run_forecast
from channelkit.forecast.hierarchy import ALL, reconcile_matrix, structure

Z90 = stats.norm.ppf(0.95)  # a 90% interval spans +-1.645 sigma


def test_reorder_advice_worked_example():
    dates = pd.date_range("2026-01-01", periods=3)
    fc = pd.DataFrame({"sku": "A", "channel": ["tmall"] * 3 + ["jd"] * 3, "date": list(dates) * 2,
                       "forecast": [10.0] * 3 + [5.0] * 3})
    fc["lo_90"] = fc["forecast"] - 2 * Z90  # sigma = 2 units a day for each channel
    fc["hi_90"] = fc["forecast"] + 2 * Z90
    inv = pd.DataFrame({"sku": ["A"], "on_hand": [40], "lead_time_days": [2]})
    row = reorder_advice(fc, inv, service_level=0.95, review_days=1).iloc[0]
    # Lead-time demand 2 days x 15; sigma_L = sqrt(2 days x 2 channels x 2^2) = 4; SS = 1.645 x 4.
    assert row["lead_time_demand"] == pytest.approx(30.0)
    assert row["safety_stock"] == pytest.approx(stats.norm.ppf(0.95) * 4.0)
    assert row["reorder_point"] == pytest.approx(30 + 6.579, abs=1e-3)
    assert row["days_of_cover"] == pytest.approx(40 / 15)
    assert not row["reorder"] and row["order_qty"] == 0
    row = reorder_advice(fc, inv.assign(on_hand=20), service_level=0.95, review_days=1).iloc[0]
    assert row["reorder"] and row["order_qty"] == int(np.ceil(36.579 + 15 - 20))
    with pytest.raises(InputError, match=r"the forecast covers 3 days but SKU\(s\) \['A'\] have lead times up to 9 days"):
        reorder_advice(fc, inv.assign(lead_time_days=9))
    with pytest.raises(InputError, match="`service_level` must satisfy 0.5 <= service_level < 1, but got 95"):
        reorder_advice(fc, inv, service_level=95)


def _reconciled_frame() -> pd.DataFrame:
    """A reconcile()-style frame for SKU A in jd and tmall over 3 days, every level present.

    Base forecasts each day: total and A 10, jd 4, tmall 5; WLS-struct moves the channels to 4.25 and
    5.25 (see the hand-worked MinT example), so A and the total are 9.5. Bottom intervals: sigma 2 a
    day per channel; the aggregates' own (narrower) intervals must not be used or double counted.
    """
    nodes, S = structure(pd.DataFrame({"sku": ["A", "A"], "channel": ["jd", "tmall"]}))
    rec = reconcile_matrix(S, np.tile([[10.0], [10.0], [4.0], [5.0], [4.0], [5.0]], 3), method="wls_struct")
    dates = pd.date_range("2026-01-01", periods=3)
    out = nodes.iloc[np.repeat(np.arange(len(nodes)), 3)].reset_index(drop=True)
    out["date"], out["forecast"] = np.tile(dates, len(nodes)), rec.ravel()
    sigma = np.where(out["level"] == "sku/channel", 2.0, 0.5)
    return out.assign(lo_90=out["forecast"] - sigma * Z90, hi_90=out["forecast"] + sigma * Z90, method="wls_struct")


def test_reorder_advice_from_a_reconciled_frame_worked_example():
    fc = _reconciled_frame()
    inv = pd.DataFrame({"sku": ["A"], "on_hand": [20], "lead_time_days": [2]})
    row = reorder_advice(fc, inv, service_level=0.95, review_days=1).iloc[0]
    # Lead-time demand 2 days x 9.5 (4.25 + 5.25); sigma_L = sqrt(2 days x 2 channels x 2^2) = 4;
    # SS = 1.645 x 4 = 6.579; ROP = 25.579 >= 20 on hand: order up to ROP + 1 day x 9.5 -> ceil(15.079) = 16.
    assert row["lead_time_demand"] == pytest.approx(19.0)
    assert row["safety_stock"] == pytest.approx(Z90 * 4.0)
    assert row["reorder_point"] == pytest.approx(25.579, abs=1e-3)
    assert row["days_of_cover"] == pytest.approx(20 / 9.5)
    assert row["reorder"] and row["order_qty"] == 16
    bottom_only = fc[fc["level"] == "sku/channel"].drop(columns="level")
    pd.testing.assert_frame_equal(reorder_advice(fc, inv, review_days=1), reorder_advice(bottom_only, inv, review_days=1))
    with pytest.raises(InputError, match=r"`forecast` has a `level` column \(a reconciled frame\) but no "
                                          r"'sku/channel' rows to size stock from; it has levels \['channel', 'sku', "
                                          r"'total'\]"):
        reorder_advice(fc[fc["level"] != "sku/channel"], inv)


@pytest.fixture(scope="module")
def run():
    rng = np.random.default_rng(5)
    dates = pd.date_range("2025-01-06", periods=112)
    pairs = [("A", "tmall"), ("A", "jd"), ("B", "tmall"), ("B", "jd"), ("C", "store")]
    panel = pd.concat([pd.DataFrame({"date": dates, "sku": s, "channel": c, "units": rng.poisson(2 + 2 * k, len(dates))})
                       for k, (s, c) in enumerate(pairs)])
    return run_forecast(panel, horizon=7, n_jobs=1, progress=False, models=("ets", "croston"))


def test_reorder_quantities_add_up_with_the_reconciled_totals(run):
    rec = reconcile(run, method="wls_struct")
    inv = pd.DataFrame({"sku": ["A", "B", "C"], "on_hand": [10, 200, 5], "lead_time_days": [4, 4, 4]})
    advice = reorder_advice(rec, inv).set_index("sku")
    first4 = rec[rec["date"] < rec["date"].min() + pd.Timedelta(days=4)]
    total = first4.loc[first4["level"] == "total", "forecast"].sum()
    assert advice["lead_time_demand"].sum() == pytest.approx(total, rel=1e-10)
    per_sku = first4[first4["level"] == "sku"].set_index("sku")["forecast"].groupby(level=0).sum()
    np.testing.assert_allclose(advice.loc[per_sku.index, "lead_time_demand"], per_sku, rtol=1e-10)
    assert set(first4.loc[first4["level"] == "sku", "channel"]) == {ALL}
    # MinT moved the SKUs' demand away from the engine's own forecasts, and the advice follows it.
    engine = reorder_advice(run.forecast, inv).set_index("sku")
    assert np.abs(engine["lead_time_demand"] - advice["lead_time_demand"]).max() > 0.05


def test_engine_forecast_input_still_works_and_equals_bottom_up(run):
    inv = pd.DataFrame({"sku": ["A", "B", "C"], "on_hand": [10, 200, 5], "lead_time_days": [3, 5, 2]})
    engine = reorder_advice(run.forecast, inv)
    pd.testing.assert_frame_equal(engine, reorder_advice(reconcile(run), inv))  # bottom-up keeps the engine's rows
    a = run.forecast[(run.forecast["sku"] == "A")].groupby("date")["forecast"].sum().iloc[:3].sum()
    assert engine.set_index("sku").loc["A", "lead_time_demand"] == pytest.approx(a)
