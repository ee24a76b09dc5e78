"""Forecast charts draw the series, the bands and the festivals."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

from channelkit.plots.forecast import accuracy_chart, fan_chart  # noqa: E402


def test_fan_chart_marks_double11_and_draws_bands():
    hist = pd.DataFrame({"date": pd.date_range("2025-09-01", "2025-10-31"), "units": 5.0})
    fc = pd.DataFrame({"date": pd.date_range("2025-11-01", periods=20), "forecast": 6.0,
                       "lo_80": 4.0, "hi_80": 8.0, "lo_95": 3.0, "hi_95": 9.0})
    ax = fan_chart(hist, fc, title="Double 11 doubles tmall's daily units")
    labels = [t.get_text() for t in ax.texts]
    assert "Double 11" in labels and "99" in labels
    assert ax.get_title(loc="left") == "Double 11 doubles tmall's daily units" and ax.get_ylabel() == "units / day"
    assert len(ax.collections) >= 2  # two interval bands


def test_accuracy_chart_orders_best_first():
    table = pd.DataFrame({"model": ["seasonal_naive", "channelkit"], "mase": [1.2, 0.8]})
    ax = accuracy_chart(table, title="channelkit cuts MASE by a third")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["channelkit", "seasonal_naive"]
