"""Sentences for the channel scorecard that hold on any history: growth on last year when the data
reach back a year, else on the period before, else none (a shop with one month of data).

Pure functions of the scorecard frame (:func:`channelkit.metrics.channel.channel_scorecard`), so
the notebook stays thin and a test can check the wording on hand-made rows.
"""
from __future__ import annotations

import pandas as pd

from channelkit.plots import short_money
from channelkit.report.escape import escape_text

GROWTH_LABELS = {"growth_yoy": "vs last year", "growth_prior": "vs the period before"}


def growth_basis(by_channel: pd.DataFrame) -> str | None:
    """``growth_yoy`` when any channel has it, else ``growth_prior`` when any has that, else ``None``."""
    for column in GROWTH_LABELS:
        if column in by_channel and by_channel[column].notna().any():
            return column
    return None


def growth_leaders(by_channel: pd.DataFrame, basis: str | None) -> tuple[pd.Series, pd.Series]:
    """The channels that grew most and least on ``basis`` (channels without a figure skipped);
    without a basis, the largest and smallest channel by revenue."""
    column = basis if basis is not None else "revenue"
    ranked = by_channel.dropna(subset=[column]).sort_values([column, "channel"], ascending=[False, True])
    return ranked.iloc[0], ranked.iloc[-1]


def _pct(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:+.1%}"


def scorecard_answer(total: pd.Series, best: pd.Series, worst: pd.Series, *, basis: str | None, period: str,
                     currency: str, margin: bool) -> str:
    """The answer paragraph: revenue, growth on what the data allow, leaders, margin if known."""
    best, worst = best.copy(), worst.copy()
    best["channel"], worst["channel"] = escape_text(best["channel"]), escape_text(worst["channel"])  # Markdown
    text = f"**Answer.** In {period} net revenue was **{short_money(total['revenue'], currency)}**"
    if basis is None:
        text += (f". The data hold no earlier period to compare with. **{best['channel']}** sold most, "
                 f"**{worst['channel']}** least.")
    else:
        against = [f"{_pct(total[c])} {GROWTH_LABELS[c].replace('vs ', 'on ')}" for c in GROWTH_LABELS
                   if pd.notna(total.get(c))]
        text += (", " + " and ".join(against) if against else "") + (
            f". **{best['channel']}** grew most ({_pct(best[basis])} {GROWTH_LABELS[basis]}), "
            f"**{worst['channel']}** least ({_pct(worst[basis])}).")
    if margin:
        text += f" Gross margin after commission: {total['gross_margin_rate']:.1%} of revenue."
    return text


def growth_title(best: pd.Series, worst: pd.Series, basis: str | None) -> str:
    """Chart title naming the leaders on the growth basis (or on revenue without one)."""
    if basis is None:
        return f"{best['channel']} sold most; no earlier period to compare growth"
    label = GROWTH_LABELS[basis]
    return f"{best['channel']} grew most {label} ({best[basis]:+.0%}); {worst['channel']} least ({worst[basis]:+.0%})"
