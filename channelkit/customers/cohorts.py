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

from channelkit.customers._validate import DAY_NS, Purchases, prepare, require_columns
from channelkit.errors import InputError

Freq = Literal["M", "W", "Q"]


def _first_purchases(transactions, as_of, customer_col, date_col, channel_col) -> tuple[Purchases, np.ndarray, np.ndarray]:
    """The checked log, its rows sorted by (customer, time) (stable: ties keep the input order),
    and each customer's first-purchase channel name (``"all"`` when ``channel_col`` is None)."""
    columns = (channel_col,) if channel_col is not None else ()
    tx = prepare(transactions, customer_col=customer_col, date_col=date_col, amount_col=None, as_of=as_of,
                 columns=columns)
    order = np.lexsort((tx.ts, tx.codes))
    starts = np.flatnonzero(np.r_[True, np.diff(tx.codes[order]) != 0])
    if channel_col is None:
        first_channel = np.full(len(tx.ids), "all", dtype=object)
    else:
        first_channel = np.asarray(tx.extra[channel_col], dtype=object)[order[starts]]
    return tx, order, first_channel


def _period_ordinals(days: np.ndarray, freq: str) -> np.ndarray:
    """pandas Period ordinal (``freq``) of each day number, computed once per calendar day."""
    lo = int(days.min())
    calendar = pd.to_datetime((lo + np.arange(int(days.max()) - lo + 1)) * DAY_NS)
    return calendar.to_period(freq).asi8[days - lo]


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
    tx, order, first_channel = _first_purchases(transactions, as_of, customer_col, date_col,
                                                channel_col if by_channel else None)
    # Integers throughout: customer codes, period ordinals, channel codes; names come back at the end.
    ordinal = _period_ordinals(tx.days, freq)
    cust, ordinal = tx.codes[order], ordinal[order]  # by customer, then time: periods never decrease
    cohort_ordinal = ordinal[np.r_[True, cust[1:] != cust[:-1]]]
    chan, names = pd.factorize(first_channel, sort=True)
    span = int(ordinal.max() - ordinal.min()) + 1
    active_cell = np.r_[True, (cust[1:] != cust[:-1]) | (ordinal[1:] != ordinal[:-1])]  # (customer, period)
    cell_cust = cust[active_cell]
    age = ordinal[active_cell] - cohort_ordinal[cell_cust]
    # Counts per (cohort, channel[, age]) through one small integer key and bincount.
    lo = int(cohort_ordinal.min())
    n_cohorts, n_chan = int(cohort_ordinal.max()) - lo + 1, len(names)
    cell = (cohort_ordinal - lo) * n_chan + chan
    sizes = _counts(np.bincount(cell, minlength=n_cohorts * n_chan), (n_cohorts, n_chan), lo, freq, names,
                    "cohort_size")
    active = _counts(np.bincount(cell[cell_cust] * span + age, minlength=n_cohorts * n_chan * span),
                     (n_cohorts, n_chan, span), lo, freq, names, "active")
    last_complete = (tx.as_of.normalize() + pd.Timedelta(days=1)).to_period(freq) - 1
    grid = _full_grid(sizes.reset_index(), last_complete)
    out = grid.join(sizes, on=["cohort", "first_channel"]).join(active, on=["cohort", "first_channel", "age"])
    out["active"] = out["active"].fillna(0).astype(int)
    out["retention"] = out["active"] / out["cohort_size"]
    out["cohort"] = out["cohort"].dt.start_time
    return out.sort_values(["first_channel", "cohort", "age"], ignore_index=True)


def _counts(counts: np.ndarray, shape: tuple[int, ...], lo: int, freq: str, names: np.ndarray,
            name: str) -> pd.Series:
    """The non-zero cells of a flat count array as a Series on (cohort Period, first_channel[, age])."""
    cells = np.flatnonzero(counts)
    keys = np.unravel_index(cells, shape)
    levels = {"cohort": pd.PeriodIndex.from_ordinals(keys[0] + lo, freq=freq),
              "first_channel": np.asarray(names, dtype=object)[keys[1]]}
    if len(shape) == 3:
        levels["age"] = keys[2].astype(int)
    index = pd.MultiIndex.from_arrays(list(levels.values()), names=list(levels))
    return pd.Series(counts[cells].astype(np.int64), index=index, name=name)


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
    tx, order, first_channel = _first_purchases(transactions, as_of, customer_col, date_col,
                                                channel_col if by_channel else None)
    cust, day = tx.codes[order], tx.days[order]
    # Purchase days per customer in time order; the 1st and 2nd distinct days are all the curve needs.
    distinct = np.flatnonzero(np.r_[True, (cust[1:] != cust[:-1]) | (day[1:] != day[:-1])])
    cust, day = cust[distinct], day[distinct]
    first = np.r_[True, cust[1:] != cust[:-1]]
    second = np.r_[False, first[:-1]] & ~first
    first_day = day[first]
    second_day = np.full(len(tx.ids), -1, dtype=np.int64)
    second_day[cust[second]] = day[second]
    returned = second_day >= 0
    as_of_day = tx.as_of.normalize().value // DAY_NS
    base = pd.DataFrame({
        "group": first_channel,
        "time": np.where(returned, second_day - first_day, as_of_day - first_day).astype(float),
        "status": returned.astype(int),
    })
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
