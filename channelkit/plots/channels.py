"""Many channels, readable charts: the largest channels by name, the rest summed as "other".

A chart with 30 lines or bars repeats colours and overlaps labels; the tables beside the charts keep
every channel's figures. The grouping is a pure function of a tidy frame, so a notebook calls it
just before plotting and a test checks the sums.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

DEFAULT_MAX_CHANNELS = 8  # named channels per chart; the rest become OTHER
OTHER = "other"
OTHER_COLOUR = (0.62, 0.62, 0.62)


def top_channels(frame: pd.DataFrame, *, value_col: str = "revenue", channel_col: str = "channel",
                 max_channels: int = DEFAULT_MAX_CHANNELS) -> list[str]:
    """The ``max_channels`` channels with the largest total ``value_col``, largest first.

    Ties keep the channels' sorted order, so the choice is deterministic. All channels come back
    when there are at most ``max_channels``.
    """
    if max_channels < 1:
        from channelkit.errors import InputError
        raise InputError(f"`max_channels` must be at least 1, but got {max_channels}")
    totals = frame.groupby(channel_col, observed=True)[value_col].sum()
    totals = totals.sort_index().sort_values(ascending=False, kind="stable")
    return [str(c) for c in totals.index[:max_channels]]


def group_other(frame: pd.DataFrame, *, value_cols: Sequence[str] | str, channel_col: str = "channel",
                max_channels: int = DEFAULT_MAX_CHANNELS, rank_col: str | None = None,
                other: str = OTHER) -> pd.DataFrame:
    """``frame`` with every channel past the ``max_channels`` largest renamed ``other`` and summed.

    The ranking uses the total of ``rank_col`` (default: the first of ``value_cols``). The other
    columns (dates, SKUs, ...) are the keys the sums keep; ``value_cols`` must be additive
    (revenue, units, spend), never rates. Named channels come first, largest first, then
    ``other``, so a chart drawn in row order has a stable legend. With at most ``max_channels``
    channels the frame comes back unchanged (sorted the same way).
    """
    values = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    keep = top_channels(frame, value_col=rank_col or values[0], channel_col=channel_col, max_channels=max_channels)
    label = frame[channel_col].astype(str).where(frame[channel_col].astype(str).isin(keep), other)
    keys = [c for c in frame.columns if c not in values and c != channel_col]
    out = (frame.assign(**{channel_col: label})
           .groupby([channel_col, *keys], as_index=False, sort=False, dropna=False)[values].sum())
    order = {name: i for i, name in enumerate([*keep, other])}
    return out.sort_values(channel_col, key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def other_note(frame: pd.DataFrame, *, channel_col: str = "channel", max_channels: int = DEFAULT_MAX_CHANNELS,
               other: str = OTHER, summed: bool = True) -> str:
    """One sentence for under a grouped chart, or ``""`` when nothing was grouped.

    ``summed=False`` for charts that draw one panel per channel and leave the rest out.
    """
    n = frame[channel_col].nunique()
    if n <= max_channels:
        return ""
    if not summed:
        return f"The charts show the {max_channels} largest of {n} channels; the other {n - max_channels} are in the tables."
    return (f"The chart names the {max_channels} largest of {n} channels and sums the other {n - max_channels} "
            f"as \"{other}\"; the table has every channel.")
