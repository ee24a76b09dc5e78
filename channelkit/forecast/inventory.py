"""Reorder advice from forecast intervals, lead times and stock on hand (per SKU).

For each SKU, with daily forecasts summed over its channels:

- lead-time demand ``D_L = sum of the point forecasts over the first L days`` (L = lead time);
- its standard deviation from the widest prediction interval: a day's ``sigma_t = (hi - lo) /
  (2 z)`` with ``z`` the normal quantile of the interval's upper tail (1.645 for 90%, 1.960 for
  95%); channels and days are treated as independent, so ``sigma_L = sqrt(sum sigma_t^2)``;
- safety stock ``SS = z_alpha * sigma_L`` for the cycle service level ``alpha`` (the probability
  of no stock-out during a replenishment cycle), reorder point ``ROP = D_L + SS``;
- days of cover = on hand / mean daily forecast over the horizon;
- reorder when ``on_hand <= ROP``; the suggested quantity brings stock up to ``ROP`` plus the
  demand of ``review_days`` (an order-up-to level), rounded up to whole units.

The forecast must reach at least the longest lead time; otherwise the error names the SKUs.

The forecast is either the engine's (``run.forecast``: one row per SKU x channel x date) or the
frame :func:`channelkit.forecast.reconcile.reconcile` returns. From the latter only the bottom level
(``level == "sku/channel"``) is used, with its intervals (the engine's, moved with the reconciled
point forecast): each SKU's lead-time demand is then its reconciled SKU forecast, and the demand of
all SKUs adds up to the reconciled total (coherence), whatever the reconciliation method.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.errors import InputError
from channelkit.forecast.frames import check_columns
from channelkit.forecast.hierarchy import LEVEL


def _sigma(fc: pd.DataFrame) -> pd.Series:
    los = sorted(float(c[3:]) for c in fc.columns if c.startswith("lo_"))
    if not los:
        raise InputError("`forecast` needs interval columns lo_<L>/hi_<L> to size safety stock")
    lv = los[-1]
    z = stats.norm.ppf(0.5 + lv / 200)
    return (fc[f"hi_{lv:g}"] - fc[f"lo_{lv:g}"]) / (2 * z)


def _bottom_level(forecast: pd.DataFrame, sku_col: str, channel_col: str) -> pd.DataFrame:
    """The SKU x channel rows of a reconciled frame (one with a ``level`` column); others as they are."""
    if LEVEL not in forecast.columns:
        return forecast
    bottom = f"{sku_col}/{channel_col}"
    rows = forecast[forecast[LEVEL] == bottom]
    if rows.empty:
        raise InputError(f"`forecast` has a `{LEVEL}` column (a reconciled frame) but no {bottom!r} rows to size "
                         f"stock from; it has levels {sorted(map(str, forecast[LEVEL].unique()))[:4]}")
    return rows


def reorder_advice(forecast: pd.DataFrame, inventory: pd.DataFrame, *, service_level: float = 0.95,
                   review_days: int = 7, sku_col: str = "sku", channel_col: str = "channel",
                   date_col: str = "date") -> pd.DataFrame:
    """One row per SKU of ``inventory``: stock position and reorder advice (formulas in the module doc).

    ``forecast`` is the engine's output (daily, with ``forecast`` and ``lo_<L>``/``hi_<L>``) or a
    reconciled frame from :func:`~channelkit.forecast.reconcile.reconcile` (its
    ``sku_col/channel_col`` level is used, so the advice agrees with the reconciled totals);
    ``inventory`` has ``sku``, ``on_hand`` and ``lead_time_days`` (summed/maxed over locations).
    Columns: ``sku, on_hand, lead_time_days, lead_time_demand, safety_stock, reorder_point,
    days_of_cover, reorder, order_qty``, reorders first, fewest days of cover first.
    """
    if not 0.5 <= service_level < 1:
        raise InputError(f"`service_level` must satisfy 0.5 <= service_level < 1, but got {service_level}")
    check_columns(forecast, [sku_col, date_col, "forecast"], what="forecast")
    check_columns(inventory, [sku_col, "on_hand", "lead_time_days"], what="inventory")
    forecast = _bottom_level(forecast, sku_col, channel_col)
    inv = inventory.groupby(sku_col).agg(on_hand=("on_hand", "sum"), lead_time_days=("lead_time_days", "max"))
    fc = forecast.assign(var=_sigma(forecast) ** 2)
    daily = fc.groupby([sku_col, date_col])[["forecast", "var"]].sum().reset_index().sort_values([sku_col, date_col])
    daily["day"] = daily.groupby(sku_col).cumcount() + 1
    horizon = daily.groupby(sku_col)["day"].max()
    inv = inv[inv.index.isin(horizon.index)]
    short = inv.index[inv["lead_time_days"] > horizon.reindex(inv.index)]
    if len(short):
        raise InputError(f"the forecast covers {int(horizon.min())} days but SKU(s) {list(short[:3])} have lead times "
                         f"up to {int(inv['lead_time_days'].max())} days; forecast a longer horizon")
    daily = daily.merge(inv["lead_time_days"], left_on=sku_col, right_index=True)
    in_lt = daily[daily["day"] <= daily["lead_time_days"]].groupby(sku_col)
    out = inv.copy()
    out["lead_time_demand"] = in_lt["forecast"].sum()
    out["safety_stock"] = stats.norm.ppf(service_level) * np.sqrt(in_lt["var"].sum())
    out["reorder_point"] = out["lead_time_demand"] + out["safety_stock"]
    mean_daily = daily.groupby(sku_col)["forecast"].mean()
    out["days_of_cover"] = out["on_hand"] / mean_daily.replace(0, np.nan)
    out["reorder"] = (out["reorder_point"] > 0) & (out["on_hand"] <= out["reorder_point"])
    up_to = out["reorder_point"] + review_days * mean_daily
    out["order_qty"] = np.where(out["reorder"], np.ceil(np.maximum(up_to - out["on_hand"], 0)), 0).astype(int)
    out = out.reset_index().sort_values(["reorder", "days_of_cover"], ascending=[False, True])
    return out.reset_index(drop=True)
