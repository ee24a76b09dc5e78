"""Forecast charts: a fan chart with festivals marked, and an accuracy comparison.

Both take the engine's tidy frames and return the matplotlib ``Axes`` so a notebook can add to
them; titles state the finding and axes carry units.
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from channelkit.data.market import DEFAULT_HOLIDAYS, market_calendar
from channelkit.plots import finish

_FESTIVAL_LABELS = {"spring_festival": "Spring Festival", "618": "618", "double11": "Double 11",
                    "double12": "Double 12", "womens_day_38": "38", "99": "99"}


def mark_festivals(ax: plt.Axes, start: pd.Timestamp, end: pd.Timestamp, *, holidays: str = DEFAULT_HOLIDAYS,
                   events: pd.DataFrame | None = None) -> plt.Axes:
    """Shade each festival's window of the market calendar and label its peak.

    ``holidays`` and ``events`` as :func:`channelkit.data.market.market_calendar` takes them: the
    Chinese shopping festivals for ``"CN"`` (Spring Festival: New Year's Day is the peak), the shop's
    own festivals from ``events`` in any market (labelled on their last day). Public holidays of
    another country are dotted lines, since they last a day and have no window.
    """
    cal = market_calendar(start, end, holidays=holidays, events=events)
    if holidays != "CN":
        for day in cal.loc[cal["kind"] == "holiday", "date"].unique():
            ax.axvline(day, color="0.7", lw=0.6, ls=":")
    cal = cal[cal["kind"] == "festival"]
    for (event, _), g in cal.groupby(["event", cal["date"] - pd.to_timedelta(cal["offset"], unit="D")]):
        ax.axvspan(g["date"].min(), g["date"].max() + pd.Timedelta(days=1), color="0.85", alpha=0.5, lw=0)
        peak = g.loc[g["offset"] == 0, "date"]
        if len(peak):
            ax.axvline(peak.iloc[0], color="0.5", lw=0.8, ls=":")
            ax.annotate(_FESTIVAL_LABELS.get(event, event), (peak.iloc[0], 1), xycoords=("data", "axes fraction"),
                        fontsize=8, ha="center", va="bottom", color="0.3")
    return ax


def fan_chart(history: pd.DataFrame, forecast: pd.DataFrame, *, title: str, value_col: str = "units",
              date_col: str = "date", levels: Sequence[float] = (80, 95), history_days: int = 120,
              color: object = None, unit: str = "units / day", ax: plt.Axes | None = None,
              holidays: str = DEFAULT_HOLIDAYS, events: pd.DataFrame | None = None) -> plt.Axes:
    """History and forecast of one series (or one total) with shaded interval bands and festivals.

    ``history`` has ``date_col`` and ``value_col``; ``forecast`` has ``forecast`` and
    ``lo_<L>``/``hi_<L>``. Only the last ``history_days`` of history are drawn. Festivals of the
    market (``holidays``, ``events``: see :func:`mark_festivals`) are shaded.
    """
    ax = ax or plt.subplots(figsize=(10, 4))[1]
    color = color or sns.color_palette("colorblind")[0]
    hist = history.sort_values(date_col)
    hist = hist[hist[date_col] > hist[date_col].max() - pd.Timedelta(days=history_days)]
    ax.plot(hist[date_col], hist[value_col], color="0.35", lw=1, label="actual")
    fc = forecast.sort_values(date_col)
    for i, lv in enumerate(sorted(levels, reverse=True)):
        ax.fill_between(fc[date_col], fc[f"lo_{lv:g}"], fc[f"hi_{lv:g}"], color=color, alpha=0.18 + 0.17 * i,
                        lw=0, label=f"{lv:g}% interval")
    ax.plot(fc[date_col], fc["forecast"], color=color, lw=2, label="forecast")
    mark_festivals(ax, hist[date_col].min(), fc[date_col].max(), holidays=holidays, events=events)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    return finish(ax, title=title, xlabel="date", ylabel=unit)


def accuracy_chart(table: pd.DataFrame, *, title: str, metric: str = "mase", ax: plt.Axes | None = None) -> plt.Axes:
    """Horizontal bars of one metric per method (``table``: index or column ``model``), lower is better."""
    data = table.reset_index() if "model" not in table.columns else table
    data = data.sort_values(metric)
    ax = ax or plt.subplots(figsize=(7, 0.5 + 0.5 * len(data)))[1]
    sns.barplot(data=data, y="model", x=metric, hue="model", legend=False, ax=ax, palette="colorblind")
    for patch, value in zip(ax.patches, data[metric]):
        ax.annotate(f"{value:.2f}", (patch.get_width(), patch.get_y() + patch.get_height() / 2), va="center",
                    fontsize=9, xytext=(3, 0), textcoords="offset points")
    return finish(ax, title=title, xlabel=f"{metric.upper()} (lower is better)", ylabel="")
