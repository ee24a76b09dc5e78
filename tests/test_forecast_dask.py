"""The Dask backend gives the local backend's numbers (statsforecast's distributed path via fugue)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def test_dask_backend_matches_local():
    from distributed import Client, LocalCluster

    from channelkit.forecast import run_forecast

    rng = np.random.default_rng(5)
    dates = pd.date_range("2025-01-06", periods=84)
    panel = pd.concat([pd.DataFrame({"date": dates, "sku": s, "channel": "tmall", "units": rng.poisson(4, 84)})
                       for s in "AB"])
    kw = dict(horizon=7, n_jobs=1, progress=False, models=("ets", "croston"))
    with LocalCluster(n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster):
        remote = run_forecast(panel, backend="dask", **kw)
    local = run_forecast(panel, backend="local", **kw)
    cols = ["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert remote.forecast["model"].tolist() == local.forecast["model"].tolist()
    np.testing.assert_allclose(remote.forecast[cols], local.forecast[cols], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(remote.backtest[["ets", "croston"]], local.backtest[["ets", "croston"]], rtol=1e-5,
                               atol=1e-5)
