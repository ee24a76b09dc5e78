"""Reconciled forecasts add up at every level and agree with hierarchicalforecast."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.forecast import reconcile, run_forecast


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
