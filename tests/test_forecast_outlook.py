"""Festival outlook per channel and the accuracy comparison table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.forecast import run_forecast
from channelkit.forecast.outlook import compare_accuracy, festival_outlook
from channelkit.metrics.forecast import mase


def _panel() -> pd.DataFrame:
    dates = pd.date_range("2023-06-01", "2025-10-15")
    rng = np.random.default_rng(12)
    peak = (dates.month == 11) & (dates.day == 11)
    rows = [pd.DataFrame({"date": dates, "sku": s, "channel": ch, "units": rng.poisson(np.where(peak, lam * m, lam))})
            for s in ("A", "B") for ch, lam, m in (("tmall", 20.0, 4.0), ("offline_stores", 10.0, 1.0))]
    return pd.concat(rows, ignore_index=True)


def test_double11_outlook_by_channel():
    out = festival_outlook(_panel(), events=("double11",)).set_index("channel")
    assert set(out.index) == {"tmall", "offline_stores"}
    assert out.loc["tmall", "peak"] == pd.Timestamp("2025-11-11")
    assert out.loc["tmall", "start"] == pd.Timestamp("2025-10-22") and out.loc["tmall", "end"] == pd.Timestamp("2025-11-12")
    # Two SKUs: tmall 2 x 20 x 4 = 160 on the peak, stores 2 x 10 = 20 (no festival effect).
    assert out.loc["tmall", "peak_units"] == pytest.approx(160, rel=0.15)
    assert out.loc["offline_stores", "peak_units"] == pytest.approx(20, rel=0.15)
    assert out.loc["offline_stores", "window_units"] == pytest.approx(22 * 20, rel=0.15)
    with pytest.raises(InputError, match=r"`events` must be festivals of channelkit.data.calendar, but got \['black_friday'\]"):
        festival_outlook(_panel(), events=("black_friday",))


def test_compare_accuracy_scores_every_candidate():
    panel = _panel()
    panel = panel[panel["date"] >= "2025-03-01"]
    run = run_forecast(panel, horizon=7, n_jobs=1, progress=False, models=("seasonal_naive", "ets", "croston"))
    table = compare_accuracy(run).set_index("model")
    assert set(table.index) == {"seasonal_naive", "ets", "croston", "ensemble", "forecast"}
    hist = run.history
    expected = mase(run.backtest, ["forecast"], hist, season_length=7)["forecast"].mean()
    assert table.loc["forecast", "mase"] == pytest.approx(expected)
    assert table.loc["forecast", "mase"] <= table.drop(index="forecast")["mase"].max()
