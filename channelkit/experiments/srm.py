"""Sample ratio mismatch: did the assignment split users as planned? (Fabijan et al., KDD 2019)

A chi-square goodness-of-fit test of the users per variant against the planned shares
(``scipy.stats.chisquare``). A tiny p-value (default threshold 0.001, the usual SRM alarm) means the
randomisation or the logging is broken, and no effect estimate from the test should be trusted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.errors import InputError
from channelkit.experiments._checks import check_alpha, check_columns


def sample_ratio_check(df: pd.DataFrame, *, variant_col: str = "variant",
                       expected_shares: dict[str, float] | None = None, threshold: float = 0.001
                       ) -> dict[str, object]:
    """Counts per variant, the chi-square p-value against ``expected_shares`` (equal split by default)
    and ``mismatch`` (p-value < ``threshold``)."""
    check_alpha(threshold, "threshold")
    check_columns(df, [variant_col])
    counts = df[variant_col].astype(str).value_counts().sort_index()
    if len(counts) < 2:
        raise InputError(f"`{variant_col}` must hold at least two variants, but got {counts.index.tolist()}")
    shares = expected_shares or {v: 1 / len(counts) for v in counts.index}
    unknown = set(counts.index) ^ set(shares)
    if unknown:
        raise InputError(f"`expected_shares` must name exactly the variants {counts.index.tolist()}, "
                         f"but differs on {sorted(unknown)}")
    expected = np.array([shares[v] for v in counts.index], dtype=float)
    expected = expected / expected.sum() * counts.sum()
    res = stats.chisquare(counts.to_numpy(dtype=float), expected)
    return {"counts": {k: int(v) for k, v in counts.items()}, "chi2": float(res.statistic),
            "p_value": float(res.pvalue), "mismatch": bool(res.pvalue < threshold)}
