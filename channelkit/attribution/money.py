"""Attribution in money: spend joined to attributed conversions and revenue, CPA and ROAS per
channel and model, and a budget reallocation suggestion from marginal returns.

Rules
- ``CPA = spend / attributed conversions`` and ``ROAS = attributed revenue / spend`` (ROAS is what
  Chinese ad dashboards call ROI). Both are NaN where the denominator is 0.
- A channel that has attributed conversions but no row in the spend table (``direct``/organic, or a
  channel the ad reports miss) keeps its conversions and revenue, with ``spend``, CPA and ROAS NaN
  and ``has_spend = False``; it never enters the budget suggestion.
- Budget suggestion: each paid channel's attributed revenue is assumed to follow a concave
  response ``R_c(s) = R_c * (s / S_c) ** alpha`` around its current spend ``S_c`` (``alpha`` < 1:
  diminishing returns; 0.5 by default, a common prior in marketing-mix work). Marginal ROAS is then
  ``alpha * R_c / S_c``. The same total budget is re-split to equalise marginal ROAS, with every
  channel kept within ``max_change`` (default +-30 %) of its current spend, since the curve is only
  trusted near what was observed. Attribution is not an experiment: the suggestion inherits the
  model's assumptions and should be tested (geo or holdout tests) before money moves.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.errors import InputError


def spend_by_channel(marketing: pd.DataFrame, *, start: object = None, end: object = None,
                     date_col: str = "date", channel_col: str = "channel", spend_col: str = "spend") -> pd.DataFrame:
    """Total ``spend`` per channel between ``start`` and ``end`` (inclusive, optional)."""
    missing = {date_col, channel_col, spend_col} - set(marketing.columns)
    if missing:
        raise InputError(f"`marketing` is missing column(s) {sorted(missing)}")
    m = marketing
    dates = pd.to_datetime(m[date_col])
    if start is not None:
        m = m.loc[dates >= pd.Timestamp(start)]
        dates = dates.loc[m.index]
    if end is not None:
        m = m.loc[dates <= pd.Timestamp(end)]
    return m.groupby(channel_col, as_index=False)[spend_col].sum().rename(columns={channel_col: "channel",
                                                                                  spend_col: "spend"})


def channel_economics(result: pd.DataFrame, spend: pd.DataFrame) -> pd.DataFrame:
    """Join attribution results (``channel, model, conversions, value``) with ``channel, spend``.

    Adds ``spend, cpa, roas, has_spend`` (see the module rules). Paid channels absent from a model's
    result get a row with 0 conversions.
    """
    models = result["model"].unique()
    paid = spend.loc[spend["spend"] > 0, "channel"]
    grid = pd.MultiIndex.from_product([models, paid], names=["model", "channel"]).to_frame(index=False)
    r = result[["channel", "model", "conversions", "value"]].merge(grid, on=["model", "channel"], how="outer")
    r[["conversions", "value"]] = r[["conversions", "value"]].fillna(0.0)
    r = r.merge(spend[["channel", "spend"]], on="channel", how="left")
    r["has_spend"] = r["spend"].notna()
    r["cpa"] = r["spend"] / r["conversions"].where(r["conversions"] > 0)
    r["roas"] = r["value"] / r["spend"].where(r["spend"] > 0)
    return r.sort_values(["model", "channel"], ignore_index=True)


def budget_suggestion(economics: pd.DataFrame, *, model: str, alpha: float = 0.5, max_change: float = 0.3,
                      total_budget: float | None = None) -> pd.DataFrame:
    """Re-split the paid budget of one model's economics to equalise marginal ROAS.

    Returns ``channel, spend, value, roas, marginal_roas, suggested_spend, change`` for paid
    channels. ``total_budget`` defaults to the current total spend.
    """
    if not 0 < alpha < 1:
        raise InputError(f"`alpha` must satisfy 0 < alpha < 1, but got {alpha}")
    if not 0 <= max_change < 1:
        raise InputError(f"`max_change` must satisfy 0 <= max_change < 1, but got {max_change}")
    e = economics.loc[(economics["model"] == model) & economics["has_spend"] & (economics["spend"] > 0)]
    if e.empty:
        raise InputError(f"no paid channel has results for model {model!r}; models: "
                         f"{sorted(economics['model'].unique())}")
    s = e["spend"].to_numpy(float)
    r = e["value"].to_numpy(float)
    budget = float(s.sum()) if total_budget is None else float(total_budget)
    lo, hi = s * (1 - max_change), s * (1 + max_change)
    if not lo.sum() <= budget <= hi.sum():
        raise InputError(f"`total_budget` {budget:.0f} is outside what +-{max_change:.0%} moves allow "
                         f"({lo.sum():.0f} to {hi.sum():.0f})")
    # optimum of sum R_c (x_c/S_c)^alpha under sum x_c = B: x_c = k * w_c, clipped to [lo, hi]
    w = np.power(np.maximum(r, 0.0) / np.power(s, alpha), 1.0 / (1.0 - alpha))
    k_lo, k_hi = 0.0, 1.0
    while np.clip(k_hi * w, lo, hi).sum() < budget and k_hi < 1e300:
        k_hi *= 2.0
    for _ in range(200):
        k = (k_lo + k_hi) / 2
        k_lo, k_hi = (k, k_hi) if np.clip(k * w, lo, hi).sum() < budget else (k_lo, k)
    x = np.clip(k_hi * w, lo, hi)
    return pd.DataFrame({"channel": e["channel"].to_numpy(), "spend": s, "value": r, "roas": r / s,
                         "marginal_roas": alpha * r / s, "suggested_spend": x, "change": x - s})
