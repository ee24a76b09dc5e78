"""The sales panel: units, revenue and prices per period x SKU x sales channel, derived from orders.

How order statuses count (the one rule every notebook shares):

- ``cancelled`` lines never shipped: they are excluded from everything.
- ``refunded`` lines were sold and then returned. Each is a sale *and* a return on its order day
  (exports carry no return date), so it is subtracted as a return: net ``units`` and ``revenue``
  count only ``paid`` lines, and ``returned_units`` / ``returned_revenue`` hold the refunded
  lines, so gross = net + returned and the return rate (退货率) = returned_units / (units +
  returned_units).
- ``orders`` counts distinct order ids with a paid line in the cell. The key (order_id, sku) is
  unique in a validated dataset and a cell holds one SKU, so this is the number of paid lines.

Prices are unit-weighted over paid lines: ``price = revenue / units`` (average paid price),
``list_price = sum(list_price * units) / units`` (average shelf price), and
``discount = 1 - price / list_price``. Free items (``unit_price == 0``: gifts with purchase,
samples) count in ``units`` and also in ``free_units``, but never in prices: the price averages run
over the priced units only, so a cell that only gave items away has an empty price (unobserved),
never a price of 0 whose log is minus infinity. In a cell where every sold unit was refunded the same
formulas run over the refunded lines (the goods sold at that price and offer even if they came
back); cells without any paid or refunded unit have empty prices. ``promo`` is True when ``discount >= promo_min_discount``
(default 0.01, so rounding noise is no promotion) or a ``promotion`` event in ``events`` covers the
day, channel and SKU (an event without channel covers all channels; one without SKU all SKUs).

``freq="W"`` gives weekly cells that start on Monday (ISO weeks; ``date`` is the Monday), with the
same formulas over the week's lines; ``promo`` is True when it holds on any day of the week.
Only cells with at least one non-cancelled line appear (no zero rows are invented).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from channelkit.errors import InputError

PANEL_COLUMNS = ["date", "sku", "channel", "units", "revenue", "orders", "price", "list_price", "discount",
                 "promo", "returned_units", "returned_revenue", "free_units"]
_KEYS = ["date", "sku", "channel"]


def period_start(dates: pd.Series, freq: Literal["D", "W"]) -> pd.Series:
    """The day (``D``) or the Monday of the week (``W``) of each timestamp, at midnight."""
    days = pd.to_datetime(dates).dt.normalize()
    if freq == "W":
        return days - pd.to_timedelta(days.dt.weekday, unit="D")
    return days


def _check_freq(freq: str) -> None:
    if freq not in ("D", "W"):
        raise InputError(f"`freq` must be 'D' (daily) or 'W' (weeks starting Monday), but got {freq!r}")


def _finish(cells: pd.DataFrame, *, events: pd.DataFrame | None, freq: str, promo_min_discount: float) -> pd.DataFrame:
    """Prices and the promo flag from summed cells (columns units, revenue, list_value, ...)."""
    if "free_units" not in cells:
        cells["free_units"] = 0.0
    priced = cells["units"] - cells["free_units"]
    sold = priced.where(priced > 0)
    cells["price"] = cells["revenue"] / sold
    cells["list_price"] = cells["list_value"] / sold
    # A cell whose every sold unit was refunded still sold at a price, often a promotion's: the
    # refund does not undo the offer. Its prices come from the refunded lines.
    only_returned = sold.isna() & (cells["units"] <= 0) & (cells["returned_units"] > 0)
    if only_returned.any():
        back = cells["returned_units"].where(only_returned)
        cells["price"] = cells["price"].fillna(cells["returned_revenue"] / back)
        if "returned_list_value" in cells:
            cells["list_price"] = cells["list_price"].fillna(cells["returned_list_value"] / back)
    cells["discount"] = 1.0 - cells["price"] / cells["list_price"]
    promo = cells["discount"].fillna(0.0) >= promo_min_discount
    if events is not None and not events.empty:
        promo |= _promotion_cells(cells, events, freq)
    cells["promo"] = promo.to_numpy(dtype=bool)
    cells["orders"] = cells["orders"].astype("int64")
    panel = pd.DataFrame({c: cells[c] for c in PANEL_COLUMNS}, copy=False)  # no copy of millions of cells
    panel.index = pd.RangeIndex(len(panel))
    return panel


def _promotion_cells(cells: pd.DataFrame, events: pd.DataFrame, freq: str) -> pd.Series:
    """True where a ``promotion`` event covers the cell's period and channel."""
    promos = events[events["kind"] == "promotion"]
    by_sku = "sku" in promos and promos["sku"].notna().any()
    shop_wide = promos[promos["sku"].isna()] if by_sku else promos
    periods = period_start(shop_wide["date"], freq)
    covered = cells["date"].isin(set(periods[shop_wide["channel"].isna()])).to_numpy()
    # One pass per promoted channel (a handful), never a frame of millions of (date, channel) tuples.
    for channel, dates in periods[shop_wide["channel"].notna()].groupby(shop_wide["channel"]):
        covered |= (cells["channel"] == channel).to_numpy() & cells["date"].isin(set(dates)).to_numpy()
    if by_sku:  # product promotions (display, mailer, a SKU's price cut): matched on (period, SKU[, channel])
        rows = promos[promos["sku"].notna()].assign(date=lambda f: period_start(f["date"], freq))
        for with_channel, part in rows.groupby(rows["channel"].notna()):
            keys = ["date", "sku", "channel"] if with_channel else ["date", "sku"]
            hit = cells[keys].merge(part[keys].drop_duplicates(), on=keys, how="left", indicator=True)
            covered |= (hit["_merge"] == "both").to_numpy()
    return pd.Series(covered, index=cells.index)


def _labels(values: pd.Series) -> pd.Categorical:
    """``values`` as a categorical with sorted categories (its codes order like the text)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        labels = values.array
        return labels if labels.categories.is_monotonic_increasing else labels.reorder_categories(
            labels.categories.sort_values())
    return pd.Categorical(values.astype(object) if values.dtype != object else values)


_NAT_DAY = np.datetime64("NaT", "D").astype(np.int64)


def _period_days(stamps: pd.Series, freq: str) -> np.ndarray:
    """Days since 1970-01-01 of each timestamp's period start (:func:`period_start`), as int64.

    NumPy's day unit floors, like ``normalize``; 1970-01-01 was a Thursday, so the Monday of a
    day ``d`` is ``d - (d + 3) % 7``. Missing times stay NaT's integer.
    """
    days = pd.to_datetime(stamps).to_numpy("datetime64[ns]").astype("datetime64[D]").view(np.int64)
    if freq == "W":
        days = np.where(days == _NAT_DAY, _NAT_DAY, days - (days + 3) % 7)
    return days


def _group_sum(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-cell sums of ``values`` (cells ``0..n-1`` all present), as pandas' groupby sums them
    (compensated summation, so money sums equal those of a plain ``groupby().sum()``)."""
    return pd.Series(values, copy=False).groupby(ids, sort=True).sum().to_numpy()


def _cell_ids(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct ``key`` values (non-negative ints) and each line's position among them.

    A key range of a few times the line count (days x SKUs x channels usually is) is numbered by
    counting, without sorting; wider ranges fall back to ``numpy.unique``.
    """
    top = int(key.max(initial=-1)) + 1
    if top > 4 * len(key) + 1_000_000:
        return np.unique(key, return_inverse=True)
    present = np.bincount(key, minlength=top) > 0
    number = np.cumsum(present) - 1
    return np.flatnonzero(present), number[key]


def panel_from_orders(orders: pd.DataFrame, *, freq: Literal["D", "W"] = "D", events: pd.DataFrame | None = None,
                      promo_min_discount: float = 0.01) -> pd.DataFrame:
    """The sales panel of contract-typed ``orders`` (see the module docstring for every rule).

    Lines are numbered by cell once (period, then SKU, then channel: the panel's sort order, with
    SKUs and channels as sorted categories) and each sum is taken one column at a time, so a log
    of tens of millions of lines is never copied whole. Unit and order counts are whole numbers,
    summed exactly by ``numpy.bincount``; money is summed by pandas. ``sku`` and ``channel`` come
    back as plain text (``object``), like the rest of the panel.
    """
    _check_freq(freq)
    status = orders["status"]
    sku, channel = _labels(orders["sku"]), _labels(orders["channel"])
    days = _period_days(orders["order_ts"], freq)
    keep = ((status != "cancelled").to_numpy(dtype=bool, na_value=True) & (sku.codes >= 0) & (channel.codes >= 0)
            & (days != _NAT_DAY))
    first = int(days[keep].min()) if keep.any() else 0
    n_sku, n_channel = len(sku.categories), len(channel.categories)
    key = days[keep]
    del days
    key -= first  # in place: each temporary is a full column of the log
    key *= n_sku
    key += sku.codes[keep]
    key *= n_channel
    key += channel.codes[keep]
    cells, ids = _cell_ids(key)
    del key
    n = len(cells)
    paid = (status == "paid").to_numpy(dtype=bool, na_value=False)[keep]
    units = orders["units"].to_numpy(dtype="float64")[keep]
    out = pd.DataFrame({
        "date": (cells // (n_sku * n_channel) + first).astype("datetime64[D]").astype("datetime64[ns]"),
        "sku": sku.categories.to_numpy(dtype=object)[cells // n_channel % n_sku],
        "channel": channel.categories.to_numpy(dtype=object)[cells % n_channel],
        "units": np.bincount(ids, weights=units * paid, minlength=n),
        "returned_units": np.bincount(ids, weights=units * ~paid, minlength=n),
        "orders": np.bincount(ids[paid], minlength=n).astype("int64"),
    })
    list_line = units * orders["list_price"].to_numpy(dtype="float64")[keep]
    out["list_value"] = _group_sum(ids, list_line * paid)
    out["returned_list_value"] = _group_sum(ids, list_line * ~paid)
    free = orders["unit_price"].to_numpy(dtype="float64")[keep] <= 0
    if free.any():
        out["free_units"] = np.bincount(ids, weights=units * (paid & free), minlength=n)
        list_line[free] = 0.0  # shelf value of free lines stays out of the priced average
        out["list_value"] = _group_sum(ids, list_line * paid)
    del list_line
    units *= orders["unit_price"].to_numpy(dtype="float64")[keep]  # now the line values
    out["revenue"] = _group_sum(ids, units * paid)
    out["returned_revenue"] = _group_sum(ids, units * ~paid)
    return _finish(out, events=events, freq=freq, promo_min_discount=promo_min_discount)


def aggregate_panel(panel: pd.DataFrame, *, freq: Literal["D", "W"] = "W", promo_min_discount: float = 0.01
                    ) -> pd.DataFrame:
    """Re-aggregate a supplied daily panel to ``freq`` (sums; unit-weighted prices; promo if any day)."""
    _check_freq(freq)
    units = panel["units"].astype("float64")
    if "free_units" not in panel:
        panel = panel.assign(free_units=0.0)
    work = panel.assign(
        date=period_start(panel["date"], freq),
        units=units,
        list_value=panel["list_price"].astype("float64") * units,
    )
    grouped = work.groupby(_KEYS, sort=True)
    cells = grouped[["units", "revenue", "list_value", "returned_units", "returned_revenue", "orders",
                     "free_units"]].sum(min_count=1)
    cells["free_units"] = cells["free_units"].fillna(0.0)
    cells["list_value"] = cells["list_value"].where(grouped["list_price"].count() == grouped["units"].size())
    cells["orders"] = cells["orders"].fillna(0)
    any_promo = grouped["promo"].any()
    cells = _finish(cells.reset_index(), events=None, freq=freq, promo_min_discount=float("inf"))
    cells["promo"] = any_promo.to_numpy(dtype=bool) | (cells["discount"].fillna(0.0) >= promo_min_discount).to_numpy()
    return cells


def daily_sales(dataset, freq: Literal["D", "W"] = "D", *, promo_min_discount: float = 0.01) -> pd.DataFrame:
    """The sales panel of a :class:`~channelkit.data.dataset.Dataset`, one row per period x SKU x channel.

    Columns: ``date`` (the day, or the Monday of the week for ``freq="W"``), ``sku``, ``channel``,
    ``units`` and ``revenue`` (net: paid lines), ``orders``, ``price``, ``list_price``, ``discount``,
    ``promo``, ``returned_units``, ``returned_revenue``. Cancelled lines are excluded and refunded
    lines are subtracted as returns; the module docstring states every rule. When the dataset has
    no ``orders`` but a supplied ``sales`` panel, that panel is returned (weekly: re-aggregated);
    a supplied panel is taken at its own frequency for ``freq="D"``.
    """
    _check_freq(freq)
    if dataset.orders is not None:
        return panel_from_orders(dataset.orders, freq=freq, events=dataset.events,
                                 promo_min_discount=promo_min_discount)
    panel = dataset.require("sales", analysis="daily_sales (no orders table)")
    if "free_units" not in panel:  # a panel built by hand rather than loaded
        panel = panel.assign(free_units=0.0)
    if freq == "D":
        return panel[PANEL_COLUMNS].sort_values(_KEYS).reset_index(drop=True)
    return aggregate_panel(panel, freq=freq, promo_min_discount=promo_min_discount)
