"""Shared plot helpers: one channel palette and one look for every notebook.

Engines never plot; notebooks call these so that a channel has the same colour in every chart
of every report, and every chart carries a title that states the finding and axis units.
"""
from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from channelkit.plots.channels import DEFAULT_MAX_CHANNELS, OTHER, OTHER_COLOUR, group_other, other_note, top_channels
from channelkit.plots.fonts import register_cjk_font

# Colour-blind-safe base palettes; a channel keeps its colour because the mapping depends only
# on the sorted channel names of its kind, never on which channels a chart happens to show.
_SALES_COLOURS = sns.color_palette("colorblind", 10)
_MARKETING_COLOURS = sns.color_palette("Set2", 8) + sns.color_palette("Dark2", 8)


def set_style() -> None:
    """Apply the report look: white grid, readable font sizes, no top/right spines, and the
    bundled CJK font as the fallback for Chinese channel and SKU names (``plots.fonts``)."""
    # Families listed in font.family fall back glyph by glyph; a generic "sans-serif" does not.
    sns.set_theme(style="whitegrid", context="notebook", rc={
        "font.family": register_cjk_font(),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
        "axes.titlesize": 12,
        "figure.dpi": 100,
        "savefig.bbox": "tight",
    })


def channel_palette(channels: Iterable[str], *, kind: str = "sales",
                    sizes: pd.Series | None = None) -> dict[str, tuple[float, float, float]]:
    """Map each channel (and ``"other"``, grey) to its colour.

    The colour depends on the channel's rank among the sorted names passed in, so pass every
    channel of the kind (e.g. ``dataset.channels``) rather than only those in one chart. When
    there are more channels than distinct colours (10 sales, 16 marketing) and ``sizes`` (a
    Series indexed by channel, e.g. revenue) is given, the largest channels get the distinct
    colours in size order and the rest share the grey of ``"other"``, so no two channels a chart
    names share a colour (charts group past ``DEFAULT_MAX_CHANNELS`` with ``group_other``).
    """
    base = _SALES_COLOURS if kind == "sales" else _MARKETING_COLOURS
    names = sorted({str(c) for c in channels})
    if len(names) > len(base) and sizes is not None:
        ranked = sizes.groupby(level=0).sum().reindex(names).fillna(0).sort_index()
        ranked = list(ranked.sort_values(ascending=False, kind="stable").index)
        colours = {name: base[i] if i < len(base) else OTHER_COLOUR for i, name in enumerate(ranked)}
    else:
        colours = {name: base[i % len(base)] for i, name in enumerate(names)}
    return colours | {OTHER: OTHER_COLOUR}


def money_label(currency: str, *, what: str = "Revenue") -> str:
    """Axis label with the currency unit, e.g. ``Revenue (CNY)``."""
    return f"{what} ({currency})"


def finish(ax: plt.Axes, *, title: str, xlabel: str | None = None, ylabel: str | None = None) -> plt.Axes:
    """Set a finding-style title and axis labels on ``ax`` and return it."""
    ax.set_title(title, loc="left")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return ax


def short_money(value: float, currency: str | None = None) -> str:
    """A compact amount for titles and labels: ``1.23M CNY``, ``45.6k CNY``, ``980 CNY``."""
    sign, v = ("-" if value < 0 else ""), abs(float(value))
    text = f"{v / 1e9:.2f}B" if v >= 1e9 else f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.1f}k" if v >= 1e3 else f"{v:,.0f}"
    return f"{sign}{text}" + (f" {currency}" if currency else "")


def money_axis(ax: plt.Axes, *, axis: str = "y") -> plt.Axes:
    """Tick labels as compact amounts (``1.2M``); put the currency in the axis label (``money_label``)."""
    from matplotlib.ticker import FuncFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: short_money(v)))
    return ax


def percent_axis(ax: plt.Axes, *, axis: str = "y", decimals: int = 0) -> plt.Axes:
    """Tick labels as percentages for values stored as shares (0.12 -> 12%)."""
    from matplotlib.ticker import PercentFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))
    return ax
