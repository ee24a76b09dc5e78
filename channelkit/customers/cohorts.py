"""Cohort retention and repurchase curves, by the channel of the first purchase.

- **Cohort retention**: customers are grouped by the period (month by default) of their first
  purchase, optionally also by its channel. ``retention`` at age *k* = customers of the cohort
  who bought in the *k*-th period after their first one / cohort size (age 0 is 100 %). Only
  periods that have fully ended by ``as_of`` are shown, so the last column is never a partial
  month that would look like a drop.
- **Repurchase curve**: the share of customers who come back (a purchase on a later *day* than
  the first, the BG/NBD "repeat purchase day" convention) within *d* days of their first
  purchase. Customers acquired recently have not had *d* days yet, so the share is the
  Kaplan-Meier estimate ``1 - S(d)`` of time to second purchase, with customers who have not come
  back censored at ``as_of`` (statsmodels' ``SurvfuncRight``), not a naive ratio that would
  understate recent cohorts.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from channelkit.customers._validate import as_timestamp, check_transactions, require_columns
from channelkit.errors import InputError

Freq = Literal["M", "W", "Q"]


def _prepared(transactions, as_of, customer_col, date_col, channel_col):
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col, amount_col=None,
                            name="transactions")
    if channel_col is not None:
        require_columns(tx, [channel_col], name="transactions")
    as_of_ts = as_timestamp(as_of, name="as_of").normalize() if as_of is not None else tx[date_col].max().normalize()
    tx = tx.loc[tx[date_col] < as_of_ts + pd.Timedelta(days=1)]
    if tx.empty:
        raise InputError(f"no purchases on or before as_of={as_of!r}")
    return tx.sort_values([customer_col, date_col]), as_of_ts


def cohort_retention(
    transactions: pd.DataFrame,
    *,
    freq: Freq = "M",
    by_channel: bool = True,
    as_of: object = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    channel_col: str = "channel",
) -> pd.DataFrame:
    """Retention by acquisition cohort (and first channel), in a long frame.

    Columns: ``cohort`` (first day of the acquisition period), ``first_channel`` (when
    ``by_channel``; else ``"all"``), ``age`` (periods since acquisition, 0..), ``cohort_size``,
    ``active`` (customers of the cohort who bought in that period), ``retention`` (active /
    cohort_size). ``freq`` is ``"M"`` (months, default), ``"W"`` (weeks) or ``"Q"`` (quarters).
    Periods that end after ``as_of`` are left out.
    """
    if freq not in ("M", "W", "Q"):
        raise InputError(f"`freq` must be one of 'M', 'W', 'Q', but got {freq!r}")
    tx, as_of_ts = _prepared(transactions, as_of, customer_col, date_col, channel_col if by_channel else None)
    # Period ordinals (integers) make "age" a subtraction, fast on millions of rows.
    ordinal = tx[date_col].dt.to_period(freq).array.asi8
    cells = pd.DataFrame({customer_col: tx[customer_col].to_numpy(), "ordinal": ordinal}).drop_duplicates()
    first = tx.groupby(customer_col, sort=False).agg(first_ts=(date_col, "first"))
    first["cohort"] = first["first_ts"].dt.to_period(freq)
    first["cohort_ordinal"] = first["cohort"].array.asi8
    first["first_channel"] = tx.groupby(customer_col, sort=False)[channel_col].first() if by_channel else "all"
    cells = cells.join(first[["cohort", "cohort_ordinal", "first_channel"]], on=customer_col)
    cells["age"] = (cells["ordinal"] - cells["cohort_ordinal"]).astype(int)
    last_complete = (as_of_ts + pd.Timedelta(days=1)).to_period(freq) - 1
    sizes = first.groupby(["cohort", "first_channel"]).size().rename("cohort_size")
    active = cells.groupby(["cohort", "first_channel", "age"]).size().rename("active")
    grid = _full_grid(sizes.reset_index(), last_complete)
    out = grid.join(sizes, on=["cohort", "first_channel"]).join(active, on=["cohort", "first_channel", "age"])
    out["active"] = out["active"].fillna(0).astype(int)
    out["retention"] = out["active"] / out["cohort_size"]
    out["cohort"] = out["cohort"].dt.start_time
    return out.sort_values(["first_channel", "cohort", "age"], ignore_index=True)


def _full_grid(sizes: pd.DataFrame, last_complete: pd.Period) -> pd.DataFrame:
    """Every (cohort, channel, age) whose period has ended by ``last_complete`` (zero-filled later)."""
    rows = []
    for cohort, channel in zip(sizes["cohort"], sizes["first_channel"]):
        n_ages = (last_complete - cohort).n + 1 if last_complete >= cohort else 0
        rows.extend((cohort, channel, age) for age in range(n_ages))
    return pd.DataFrame(rows, columns=["cohort", "first_channel", "age"])


def cohort_matrix(retention: pd.DataFrame, *, value: str = "retention") -> pd.DataFrame:
    """Pivot :func:`cohort_retention` (summed over channels) to cohort x age for a heatmap.

    With ``value="retention"`` channels are pooled first (active / size over all channels).
    """
    require_columns(retention, ["cohort", "age", "active", "cohort_size"], name="retention")
    pooled = retention.groupby(["cohort", "age"])[["active", "cohort_size"]].sum()
    pooled["retention"] = pooled["active"] / pooled["cohort_size"]
    if value not in pooled.columns:
        raise InputError(f"`value` must be one of 'retention', 'active', 'cohort_size', but got {value!r}")
    matrix = pooled[value].unstack("age")
    matrix.index = matrix.index.strftime("%Y-%m-%d")
    return matrix


def repurchase_curve(
    transactions: pd.DataFrame,
    *,
    horizon_days: int = 365,
    by_channel: bool = True,
    as_of: object = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    channel_col: str = "channel",
) -> pd.DataFrame:
    """Kaplan-Meier share of customers who bought again within ``d`` days of their first purchase.

    Columns: ``first_channel`` (``"all"`` when ``by_channel=False``), ``day`` (0..horizon_days),
    ``repurchased`` (``1 - S(day)``), ``customers`` (customers in the group). Time to the second
    purchase is counted in whole days between purchase days; a customer who has not come back is
    censored at ``as_of - first day``.
    """
    if not isinstance(horizon_days, (int, np.integer)) or horizon_days < 1:
        raise InputError(f"`horizon_days` must be a positive integer, but got {horizon_days!r}")
    tx, as_of_ts = _prepared(transactions, as_of, customer_col, date_col, channel_col if by_channel else None)
    days = tx.assign(_day=tx[date_col].dt.normalize()).drop_duplicates([customer_col, "_day"])
    nth = days.groupby(customer_col, sort=False).cumcount()
    base = days.loc[nth == 0].set_index(customer_col)[["_day"]].rename(columns={"_day": "first_day"})
    base["group"] = days.loc[nth == 0].set_index(customer_col)[channel_col] if by_channel else "all"
    base["second_day"] = days.loc[nth == 1].set_index(customer_col)["_day"]
    returned = base["second_day"].notna()
    base["time"] = np.where(returned, (base["second_day"] - base["first_day"]).dt.days,
                            (as_of_ts - base["first_day"]).dt.days).astype(float)
    base["status"] = returned.astype(int)
    grid = np.arange(horizon_days + 1)
    frames = [_km_curve(part, grid, group) for group, part in base.groupby("group", sort=True)]
    return pd.concat(frames, ignore_index=True)


def _km_curve(part: pd.DataFrame, grid: np.ndarray, group: str) -> pd.DataFrame:
    """``1 - S(d)`` on the day grid from statsmodels' Kaplan-Meier estimate (0 before any event)."""
    from statsmodels.duration.survfunc import SurvfuncRight  # imported on use: statsmodels is slow to import

    if part["status"].sum() == 0:
        repurchased = np.zeros(len(grid))
    else:
        km = SurvfuncRight(part["time"].to_numpy(), part["status"].to_numpy())
        idx = np.searchsorted(km.surv_times, grid, side="right") - 1
        surv = np.where(idx >= 0, km.surv_prob[np.clip(idx, 0, None)], 1.0)
        # Beyond the longest follow-up the estimate is undefined: leave it empty, not flat.
        surv = np.where(grid > part["time"].max(), np.nan, surv)
        repurchased = 1.0 - surv
    return pd.DataFrame({"first_channel": group, "day": grid, "repurchased": repurchased, "customers": len(part)})
