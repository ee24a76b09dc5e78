"""Roll-ups of the per-event results for reports: one row per channel, one per festival."""
from __future__ import annotations

import pandas as pd

from channelkit.promotions.frames import require_columns


def summarize_by_channel(result: pd.DataFrame, *, kind: str = "promotion") -> pd.DataFrame:
    """Per channel, over the estimable events of ``kind``: ``events``, ``significant`` (interval of
    incremental units above 0), ``paid`` (net incremental margin above spend), ``incremental_units``,
    ``net_incremental_units``, ``median_lift``, ``median_post_change`` (the dip), ``discount_cost``,
    ``net_incremental_margin`` (sums) and ``roi`` = (sum net margin - sum spend) / (sum discount cost +
    sum spend)."""
    require_columns(result, ["kind", "channel", "note", "incremental_low", "paid", "lift"], name="result")
    done = result[(result["kind"] == kind) & (result["note"] == "")]
    grouped = done.groupby("channel")
    out = pd.DataFrame({
        "events": grouped.size(),
        "significant": grouped["incremental_low"].apply(lambda s: int((s > 0).sum())),
        "paid": grouped["paid"].apply(lambda s: int(s.fillna(False).sum())),
        "incremental_units": grouped["incremental_units"].sum(),
        "net_incremental_units": grouped["net_incremental_units"].sum(),
        "median_lift": grouped["lift"].median(),
        "median_post_change": grouped["post_change"].median(),
        "discount_cost": grouped["discount_cost"].sum(),
        "net_incremental_margin": grouped["net_incremental_margin"].sum(),
        "spend": grouped["spend"].sum(),
    })
    out["roi"] = (out["net_incremental_margin"] - out["spend"]) / (out["discount_cost"] + out["spend"])
    return out.reset_index()
