"""Elasticity charts: each estimate with its own interval, and cross-price matrices that hide noise.

Both take the tidy frames of :mod:`channelkit.elasticity` as they come (``elasticity``,
``ci_low``, ``ci_high`` columns, or their ``*_pooled`` versions).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns


def interval_chart(estimates: pd.DataFrame, *, label_cols: Sequence[str] = ("sku", "channel"),
                   estimate_col: str = "elasticity", low_col: str = "ci_low", high_col: str = "ci_high",
                   hue_col: str | None = "channel", palette: dict | None = None, top: int = 30,
                   order_col: str = "units", ax: plt.Axes | None = None) -> plt.Axes:
    """One row per estimate (the ``top`` rows by ``order_col``, sorted by the estimate): a dot and its
    own interval ``[low, high]``, coloured by ``hue_col``; a dashed line at -1 (unit elasticity)."""
    rows = estimates.dropna(subset=[estimate_col, low_col, high_col])
    if order_col in rows.columns:
        rows = rows.nlargest(top, order_col)
    rows = rows.head(top).sort_values(estimate_col)
    labels = rows[list(label_cols)].astype(str).agg(" / ".join, axis=1).to_numpy()
    ax = ax or plt.subplots(figsize=(8, 0.28 * len(rows) + 1.2))[1]
    y = np.arange(len(rows))
    colours = [palette.get(h, "tab:blue") if palette and hue_col else "tab:blue"
               for h in (rows[hue_col] if hue_col in rows.columns else [None] * len(rows))]
    ax.hlines(y, rows[low_col], rows[high_col], colors=colours, linewidth=2)
    ax.scatter(rows[estimate_col], y, color=colours, zorder=3, s=18)
    ax.axvline(-1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, labels)
    return ax


def cross_matrix_chart(cross: pd.DataFrame, *, row_col: str, col_col: str, estimate_col: str = "elasticity",
                       low_col: str = "ci_low", high_col: str = "ci_high", ax: plt.Axes | None = None) -> plt.Axes:
    """Heatmap of a cross-price matrix where only cells whose interval excludes 0 are coloured and
    annotated; cells whose interval covers 0 are grey and blank (no evidence of an effect)."""
    clear = (cross[low_col] > 0) | (cross[high_col] < 0)
    values = cross.pivot(index=row_col, columns=col_col, values=estimate_col)
    shown = cross.assign(_clear=clear).pivot(index=row_col, columns=col_col, values="_clear")
    shown = shown.reindex_like(values).eq(True)  # pairs without an estimate stay hidden
    ax = ax or plt.subplots(figsize=(1.0 * values.shape[1] + 2, 0.7 * values.shape[0] + 1.5))[1]
    ax.set_facecolor("0.88")  # the grey under the hidden cells
    limit = float(np.nanmax(np.abs(values.to_numpy()))) if values.notna().any().any() else 1.0
    sns.heatmap(values, annot=True, fmt=".2f", cmap="RdBu_r", center=0, vmin=-limit, vmax=limit,
                mask=~shown.to_numpy(), cbar_kws={"label": "elasticity"}, ax=ax)
    return ax
