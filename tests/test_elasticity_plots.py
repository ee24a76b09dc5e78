"""Elasticity charts: own intervals per pair, and cross matrices that hide pairs whose interval covers 0."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from channelkit.plots.elasticity import cross_matrix_chart, interval_chart  # noqa: E402


def test_cross_matrix_annotates_only_pairs_whose_interval_excludes_zero() -> None:
    cross = pd.DataFrame({"channel": ["a", "a", "b", "b"], "other_channel": ["b", "c", "a", "c"],
                          "elasticity": [0.30, 0.05, -0.20, 0.10], "ci_low": [0.10, -0.10, -0.35, -0.05],
                          "ci_high": [0.50, 0.20, -0.05, 0.25]})
    ax = cross_matrix_chart(cross, row_col="channel", col_col="other_channel")
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["-0.20", "0.30"]  # a<-c and b<-c cover 0: grey and blank
    plt.close("all")


def test_interval_chart_draws_each_pairs_own_interval() -> None:
    est = pd.DataFrame({"sku": ["A", "B", "C"], "channel": "tm", "elasticity": [-2.0, -1.2, np.nan],
                        "ci_low": [-2.5, -1.5, np.nan], "ci_high": [-1.5, -0.9, np.nan], "units": [10, 20, 30]})
    ax = interval_chart(est)
    segments = ax.collections[0].get_segments()
    assert [tuple(np.round(s[:, 0], 2)) for s in segments] == [(-2.5, -1.5), (-1.5, -0.9)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A / tm", "B / tm"]
    plt.close("all")
