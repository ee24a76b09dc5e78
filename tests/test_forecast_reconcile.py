"""Reconciled forecasts add up at every level; reorder advice by the documented formulas."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from channelkit.errors import InputError
from channelkit.forecast import reconcile, reorder_advice, run_forecast


@pytest.fixture(scope="module")
def run():
    rng = np.random.default_rng(5)
    dates = pd.date_range("2025-01-06", periods=112)
    panel = pd.concat([pd.DataFrame({"date": dates, "sku": s, "channel": c, "units": rng.poisson(3 + k, len(dates))})
                       for k, (s, c) in enumerate([("A", "tmall"), ("A", "jd"), ("B", "tmall"), ("B", "jd")])])
    return run_forecast(panel, horizon=7, n_jobs=1, progress=False, models=("ets", "croston"))


def test_levels_add_up_and_agree_with_hierarchicalforecast(run):
    from hierarchicalforecast.utils import aggregate

    rec = reconcile(run)
    assert set(rec["level"]) == {"sku/channel", "sku", "channel", "total"}
    bottom = rec[rec["level"] == "sku/channel"]
    pd.testing.assert_frame_equal(bottom[["sku", "channel", "date", "forecast"]].reset_index(drop=True),
                                  run.forecast[["sku", "channel", "date", "forecast"]].reset_index(drop=True))
    ref_in = run.forecast.rename(columns={"date": "ds", "forecast": "y"}).assign(total="total")
    ref, _, _ = aggregate(ref_in[["total", "sku", "channel", "ds", "y"]],
                          [["total"], ["total", "sku"], ["total", "channel"], ["total", "sku", "channel"]])
    ref = ref.set_index(["unique_id", "ds"])["y"]
    total = rec[rec["level"] == "total"].set_index("date")["forecast"]
    np.testing.assert_allclose(total.to_numpy(), ref.loc["total"].to_numpy())
    sku_a = rec[(rec["level"] == "sku") & (rec["sku"] == "A")].set_index("date")["forecast"]
    np.testing.assert_allclose(sku_a.to_numpy(), ref.loc["total/A"].to_numpy())
    jd = rec[(rec["level"] == "channel") & (rec["channel"] == "jd")].set_index("date")["forecast"]
    np.testing.assert_allclose(jd.to_numpy(), ref.loc["total/jd"].to_numpy())


def test_aggregate_intervals_are_recalibrated_not_summed(run):
    rec = reconcile(run)
    total = rec[rec["level"] == "total"]
    bottom_hi_sum = run.forecast.groupby("date")["hi_80"].sum().to_numpy()
    assert (total["lo_80"] <= total["forecast"]).all() and (total["forecast"] <= total["hi_80"]).all()
    # Summing upper quantiles overstates the total's quantile when errors partly cancel.
    assert (total["hi_80"].to_numpy() < bottom_hi_sum).all()


def test_reorder_advice_worked_example():
    dates = pd.date_range("2026-01-01", periods=3)
    z90 = stats.norm.ppf(0.95)  # an 90% interval spans +-1.645 sigma
    fc = pd.DataFrame({"sku": "A", "channel": ["tmall"] * 3 + ["jd"] * 3, "date": list(dates) * 2,
                       "forecast": [10.0] * 3 + [5.0] * 3})
    fc["lo_90"] = fc["forecast"] - 2 * z90  # sigma = 2 units a day for each channel
    fc["hi_90"] = fc["forecast"] + 2 * z90
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
