"""MMM ROAS beside the journey models' ROAS (notebook 03), per paid channel.

Journey attribution divides the orders that carry ad touches among the touched channels; it
cannot see sales an ad caused without a logged touch (a KOL video watched, then a search days
later on another device, or an offline purchase), nor tell whether a touched order would have
happened anyway. The MMM sees all sales and all spend, but only in aggregate, so it needs spend
that moves independently and cannot split a channel by campaign or audience. Both ROAS are
revenue per yuan of spend (not profit).
"""
from __future__ import annotations

import pandas as pd


def roas_comparison(summary: pd.DataFrame, economics: pd.DataFrame, *, models: list[str] | None = None) -> pd.DataFrame:
    """Long frame ``channel, method, roas, roas_lo, roas_hi`` for plotting side by side.

    ``summary`` is :func:`channelkit.mmm.channel_summary` (method ``mmm``, with its interval);
    ``economics`` is :func:`channelkit.attribution.money.channel_economics` (one method per
    ``model``, no interval). Channels are those of the MMM summary; ``models`` filters the
    journey models (default: all)."""
    mmm = summary[["channel", "roas", "roas_lo", "roas_hi"]].assign(method="mmm")
    journeys = economics.loc[economics["channel"].isin(summary["channel"]), ["channel", "model", "roas"]]
    if models is not None:
        journeys = journeys[journeys["model"].isin(models)]
    journeys = journeys.rename(columns={"model": "method"}).assign(roas_lo=float("nan"), roas_hi=float("nan"))
    out = pd.concat([mmm, journeys], ignore_index=True)
    out = out[["channel", "method", "roas", "roas_lo", "roas_hi"]]
    return out.sort_values(["channel", "method"], ignore_index=True)
