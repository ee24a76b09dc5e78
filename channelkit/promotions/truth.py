"""True incremental units of the sample retailer's festivals, from ``truth.json`` and the orders.

The generator's expected units are ``lambda = lambda0 * M`` with, on festival days, the total
festival factor

    M[line] = festival_multiplier(channel, day) * (unit_price / list_price) ** (elasticity(sku, channel)
              + sum of the SKU's cross-price elasticities)

where the multiplier is the product over the day's festival phases of
``truth["festival_channel_multipliers"][channel][event][phase]`` (ramp phases, ``presale`` and the
Spring Festival's ``pre``, take the k-th of n days to the power ``k / n``; see
``channelkit.data.sample``), and the price term applies on the festival's discount days
(``truth["festival_discounts"]``; a festival cut lowers the substitutes' prices by the same share, so
their cross elasticities from ``truth["cross_price_elasticity"]`` add to the own one). Without the festival, the same line would be expected at
``lambda / M``, so each sold unit carries ``1 - 1/M`` incremental units in expectation:

    incremental(event, channel) = sum over lines in the window of units * (1 - 1 / M).

Observed units stand in for ``lambda`` (unbiased: E[units] = lambda; cancelled lines are left out
on both sides, as in :func:`~channelkit.promotions.frames.channel_daily_from_orders`). The same
sum over the ``post_days`` after the window gives the true post-event change (the generator has no
festival dip, so it is 0 unless another festival follows).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.data.calendar import festival_calendar
from channelkit.promotions.frames import event_windows, require_columns

RAMP_PHASES = ("pre", "presale")


def festival_log_multipliers(truth: dict) -> pd.DataFrame:
    """``date, channel, log_m``: log of the festival demand multiplier per channel and festival day,
    over the generator's calendar (``truth["start"]`` to ``truth["end"]``: the ramp's length is
    measured on that calendar, as the generator does)."""
    cal = festival_calendar(pd.Timestamp(truth["start"]), pd.Timestamp(truth["end"]))
    per_channel = truth["festival_channel_multipliers"]
    parts = []
    for event, rows in cal.groupby("event"):
        expo = np.ones(len(rows))
        ramp = rows["phase"].isin(RAMP_PHASES).to_numpy()
        if ramp.any():  # every year has the same offsets: k-th of n ramp days gets k / n
            off = rows["offset"].to_numpy()
            first, last = off[ramp].min(), off[ramp].max()
            expo[ramp] = (off[ramp] - first + 1) / (last - first + 1)
        for channel, table in per_channel.items():
            m = rows["phase"].map(table[event]).to_numpy(dtype=float)
            parts.append(pd.DataFrame({"date": rows["date"].to_numpy(), "channel": channel,
                                       "log_m": expo * np.log(m)}))
    frame = pd.concat(parts, ignore_index=True)
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    return frame.groupby(["date", "channel"], as_index=False)["log_m"].sum()  # overlapping events multiply


def _price_log_factor(lines: pd.DataFrame, truth: dict) -> np.ndarray:
    """elasticity * log(unit_price / list_price) on the festival discount days of each line's channel."""
    cuts = pd.DataFrame(truth["festival_discounts"])
    on_cut = np.zeros(len(lines), dtype=bool)
    for cut in cuts.itertuples(index=False):
        on_cut |= ((lines["channel"] == cut.channel) & (lines["date"] >= pd.Timestamp(cut.start))
                   & (lines["date"] <= pd.Timestamp(cut.end))).to_numpy()
    elasticity = pd.DataFrame(truth["elasticity"]).set_index(["sku", "channel"])["elasticity"]
    e = elasticity.reindex(pd.MultiIndex.from_frame(lines[["sku", "channel"]])).to_numpy(dtype=float)
    # a festival cut lowers every SKU of the channel by the same share, so the substitutes' cross
    # elasticities (truth["cross_price_elasticity"], same channel) add to the own one
    cross = pd.DataFrame(truth.get("cross_price_elasticity", []), columns=["sku", "elasticity"])
    e = e + lines["sku"].map(cross.groupby("sku")["elasticity"].sum()).fillna(0.0).to_numpy(dtype=float)
    ratio = lines["unit_price"].to_numpy(dtype=float) / lines["list_price"].to_numpy(dtype=float)
    return np.where(on_cut, e * np.log(ratio), 0.0)


def true_festival_lifts(orders: pd.DataFrame, events: pd.DataFrame, truth: dict, *, post_days: int = 7) -> pd.DataFrame:
    """One row per festival occurrence and channel: ``event, start, end, channel, incremental_units``
    (true, over the event window) and ``post_incremental_units`` (true change over the ``post_days`` after it;
    the estimator's ``lost_units`` targets ``-post_incremental_units``). See the module docstring."""
    require_columns(orders, ["order_ts", "channel", "sku", "units", "unit_price", "list_price"], name="orders")
    live = orders if "status" not in orders else orders[orders["status"] != "cancelled"]
    lines = pd.DataFrame({"date": pd.to_datetime(live["order_ts"]).dt.normalize().to_numpy(),
                          "channel": live["channel"].to_numpy(), "sku": live["sku"].to_numpy(),
                          "units": live["units"].to_numpy(dtype=float),
                          "unit_price": live["unit_price"].to_numpy(), "list_price": live["list_price"].to_numpy()})
    mult = festival_log_multipliers(truth)
    log_m = lines[["date", "channel"]].merge(mult, on=["date", "channel"], how="left")["log_m"].fillna(0.0)
    lines["extra"] = lines["units"] * (1 - np.exp(-(log_m.to_numpy() + _price_log_factor(lines, truth))))
    daily = lines.groupby(["date", "channel"])["extra"].sum()
    rows = []
    for w in event_windows(events, kinds=("festival",)).itertuples(index=False):
        post_end = w.end + pd.Timedelta(days=post_days)
        for channel in sorted(lines["channel"].unique()):
            series = daily.xs(channel, level="channel")
            rows.append({"event": w.event, "start": w.start, "end": w.end, "channel": channel,
                         "incremental_units": float(series[w.start:w.end].sum()),
                         "post_incremental_units": float(series[w.end + pd.Timedelta(days=1):post_end].sum())})
    return pd.DataFrame(rows)
