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

Prices are unit-weighted over paid lines: ``price = revenue / units`` (average paid price, empty
when no paid unit), ``list_price = sum(list_price * units) / units`` (average shelf price), and
``discount = 1 - price / list_price``. ``promo`` is True when ``discount >= promo_min_discount``
(default 0.01, so rounding noise is no promotion) or a ``promotion`` event in ``events`` covers the
day and channel (an event without channel covers all channels).

``freq="W"`` gives weekly cells that start on Monday (ISO weeks; ``date`` is the Monday), with the
same formulas over the week's lines; ``promo`` is True when it holds on any day of the week.
Only cells with at least one non-cancelled line appear (no zero rows are invented).
"""
from __future__ import annotations

from typing import Literal

import pandas as pd

from channelkit.errors import InputError

PANEL_COLUMNS = ["date", "sku", "channel", "units", "revenue", "orders", "price", "list_price", "discount",
                 "promo", "returned_units", "returned_revenue"]
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
    sold = cells["units"].where(cells["units"] > 0)
    cells["price"] = cells["revenue"] / sold
    cells["list_price"] = cells["list_value"] / sold
    cells["discount"] = 1.0 - cells["price"] / cells["list_price"]
    promo = cells["discount"].fillna(0.0) >= promo_min_discount
    if events is not None and not events.empty:
        promo |= _promotion_cells(cells, events, freq)
    cells["promo"] = promo.to_numpy(dtype=bool)
    cells["orders"] = cells["orders"].astype("int64")
    return cells[PANEL_COLUMNS].reset_index(drop=True)


def _promotion_cells(cells: pd.DataFrame, events: pd.DataFrame, freq: str) -> pd.Series:
    """True where a ``promotion`` event covers the cell's period and channel."""
    promos = events[events["kind"] == "promotion"]
    periods = period_start(promos["date"], freq)
    everywhere = set(periods[promos["channel"].isna()])
    specific = pd.MultiIndex.from_arrays([periods[promos["channel"].notna()],
                                          promos.loc[promos["channel"].notna(), "channel"]])
    by_channel = pd.MultiIndex.from_frame(cells[["date", "channel"]]).isin(specific)
    return pd.Series(by_channel, index=cells.index) | cells["date"].isin(everywhere)


def panel_from_orders(orders: pd.DataFrame, *, freq: Literal["D", "W"] = "D", events: pd.DataFrame | None = None,
                      promo_min_discount: float = 0.01) -> pd.DataFrame:
    """The sales panel of contract-typed ``orders`` (see the module docstring for every rule)."""
    _check_freq(freq)
    lines = orders[orders["status"] != "cancelled"]
    paid = (lines["status"] == "paid").to_numpy()
    units = lines["units"].to_numpy(dtype="float64")
    value = units * lines["unit_price"].to_numpy(dtype="float64")
    work = pd.DataFrame({
        "date": period_start(lines["order_ts"], freq).to_numpy(),
        "sku": lines["sku"].to_numpy(),
        "channel": lines["channel"].to_numpy(),
        "units": units * paid,
        "revenue": value * paid,
        "list_value": units * lines["list_price"].to_numpy(dtype="float64") * paid,
        "returned_units": units * ~paid,
        "returned_revenue": value * ~paid,
        "orders": paid.astype("int64"),
    })
    cells = work.groupby(_KEYS, sort=True)[
        ["units", "revenue", "list_value", "returned_units", "returned_revenue", "orders"]].sum()
    return _finish(cells.reset_index(), events=events, freq=freq, promo_min_discount=promo_min_discount)


def aggregate_panel(panel: pd.DataFrame, *, freq: Literal["D", "W"] = "W", promo_min_discount: float = 0.01
                    ) -> pd.DataFrame:
    """Re-aggregate a supplied daily panel to ``freq`` (sums; unit-weighted prices; promo if any day)."""
    _check_freq(freq)
    units = panel["units"].astype("float64")
    work = panel.assign(
        date=period_start(panel["date"], freq),
        units=units,
        list_value=panel["list_price"].astype("float64") * units,
    )
    grouped = work.groupby(_KEYS, sort=True)
    cells = grouped[["units", "revenue", "list_value", "returned_units", "returned_revenue", "orders"]].sum(min_count=1)
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
    if freq == "D":
        return panel[PANEL_COLUMNS].sort_values(_KEYS).reset_index(drop=True)
    return aggregate_panel(panel, freq=freq, promo_min_discount=promo_min_discount)
