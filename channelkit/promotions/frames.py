"""Inputs of the promotion engine: event windows from the ``events`` table, the channel x day panel
with money columns, and daily marketing traffic."""
from __future__ import annotations

import reprlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from channelkit.errors import InputError

WINDOW_COLUMNS = ["event", "kind", "channel", "start", "end", "days", "discount"]
DAILY_COLUMNS = ["date", "channel", "units", "revenue", "list_value", "cost", "margin", "orders"]


def require_columns(frame: pd.DataFrame | None, columns: Iterable[str], *, name: str) -> pd.DataFrame:
    """``frame`` must be a DataFrame with ``columns``; the error names the argument and what is missing."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"`{name}` must be a pandas DataFrame, but got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"`{name}` lacks column(s) {missing}; it has {reprlib.repr(list(frame.columns))}")
    return frame


def event_windows(events: pd.DataFrame, *, kinds: Iterable[str] = ("promotion", "festival")) -> pd.DataFrame:
    """One row per occurrence of an event: ``event, kind, channel, start, end, days, discount``.

    The ``events`` table has one row per event day (and channel). Consecutive days of the same
    ``event`` and ``channel`` form one occurrence, so ``double11`` of 2024 and of 2025 are two rows. ``channel`` is None for events of
    all channels; ``discount`` is the mean of the event's stated discounts (NaN when unknown).
    """
    require_columns(events, ["date", "event", "kind"], name="events")
    kinds = list(kinds)
    frame = events[events["kind"].isin(kinds)].copy()
    if frame.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    frame["channel"] = frame["channel"].astype(object).where(frame["channel"].notna(), None) \
        if "channel" in frame else None
    frame["discount"] = pd.to_numeric(frame["discount"], errors="coerce") if "discount" in frame else np.nan
    frame["_ch"] = frame["channel"].fillna("")
    frame = frame.drop_duplicates(["event", "_ch", "date"]).sort_values(["event", "_ch", "date"])
    gap = frame.groupby(["event", "_ch"])["date"].diff() != pd.Timedelta(days=1)
    frame["_run"] = gap.cumsum()
    out = frame.groupby("_run").agg(event=("event", "first"), kind=("kind", "first"), channel=("channel", "first"),
                                    start=("date", "min"), end=("date", "max"), days=("date", "size"),
                                    discount=("discount", "mean"))
    return out.sort_values(["start", "event"]).reset_index(drop=True)[WINDOW_COLUMNS]


def channel_daily(sales: pd.DataFrame, *, products: pd.DataFrame | None = None,
                  channels: pd.DataFrame | None = None, orders: pd.DataFrame | None = None,
                  demand: str = "gross") -> pd.DataFrame:
    """Daily totals per sales channel with money columns, zero-filled on days without sales.

    ``sales`` is the daily panel of :func:`channelkit.data.daily_sales` (``date, sku, channel,
    units, revenue``; optional ``list_price``, ``returned_units``, ``returned_revenue``).
    ``demand="gross"`` (default) counts what customers bought, paid and later refunded lines alike
    (cancelled lines never count; a promotion's effect on demand should not wait for returns);
    ``"net"`` counts paid lines only. ``list_value`` = shelf price x units (the discount cost is
    ``list_value - revenue``), ``cost`` = unit_cost x units (``products``), ``margin`` = revenue x
    (1 - commission_rate of ``channels``) - cost (NaN without ``products``). ``orders`` counts
    distinct non-cancelled order ids per channel and day from ``orders`` (NaN when not given).
    """
    require_columns(sales, ["date", "sku", "channel", "units", "revenue"], name="sales")
    if demand not in ("gross", "net"):
        raise InputError(f"`demand` must be 'gross' or 'net', but got {demand!r}")
    units = sales["units"].astype(float)
    revenue = sales["revenue"].astype(float)
    if demand == "gross" and {"returned_units", "returned_revenue"} <= set(sales.columns):
        units = units + sales["returned_units"].fillna(0.0).astype(float)
        revenue = revenue + sales["returned_revenue"].fillna(0.0).astype(float)
    list_price = sales["list_price"].astype(float) if "list_price" in sales else revenue / units.where(units > 0)
    work = pd.DataFrame({"date": pd.to_datetime(sales["date"]).dt.normalize(), "channel": sales["channel"],
                         "units": units, "revenue": revenue,
                         "list_value": (list_price * units).fillna(revenue)})
    if products is not None:
        cost = sales["sku"].map(require_columns(products, ["sku", "unit_cost"], name="products")
                                .set_index("sku")["unit_cost"])
        work["cost"] = cost.to_numpy(dtype=float) * units.to_numpy()
    else:
        work["cost"] = np.nan
    daily = work.groupby(["date", "channel"], as_index=False).sum(min_count=1)
    commission = 0.0
    if channels is not None:
        rates = require_columns(channels, ["channel"], name="channels").set_index("channel")
        commission = daily["channel"].map(rates["commission_rate"]).fillna(0.0) \
            if "commission_rate" in rates else 0.0
    daily["margin"] = daily["revenue"] * (1 - commission) - daily["cost"]
    daily = _complete(daily)
    daily["orders"] = _order_counts(orders, daily) if orders is not None else np.nan
    return daily[DAILY_COLUMNS]


def channel_daily_from_orders(orders: pd.DataFrame, *, products: pd.DataFrame | None = None,
                              channels: pd.DataFrame | None = None, demand: str = "gross") -> pd.DataFrame:
    """:func:`channel_daily` straight from contract ``orders``, in one pass over the lines.

    Same columns and rules (gross: paid and refunded lines; net: paid lines; cancelled never), but
    no SKU x channel x day panel is built in between, which keeps memory low on large order logs.
    """
    require_columns(orders, ["order_id", "order_ts", "channel", "sku", "units", "unit_price"], name="orders")
    if demand not in ("gross", "net"):
        raise InputError(f"`demand` must be 'gross' or 'net', but got {demand!r}")
    status = orders["status"] if "status" in orders else pd.Series("paid", index=orders.index)
    keep = (status != "cancelled") if demand == "gross" else (status == "paid")
    lines = orders.loc[keep.to_numpy(), ["order_id", "order_ts", "channel", "sku", "units", "unit_price"]
                       + (["list_price"] if "list_price" in orders else [])]
    units = lines["units"].to_numpy(dtype="float64")
    work = pd.DataFrame({"date": pd.to_datetime(lines["order_ts"]).dt.normalize().to_numpy(),
                         "channel": lines["channel"].to_numpy(), "units": units,
                         "revenue": units * lines["unit_price"].to_numpy(dtype="float64")})
    work["list_value"] = units * lines["list_price"].to_numpy(dtype="float64") if "list_price" in lines \
        else work["revenue"]
    if products is not None:
        unit_cost = require_columns(products, ["sku", "unit_cost"], name="products").set_index("sku")["unit_cost"]
        work["cost"] = units * lines["sku"].map(unit_cost).to_numpy(dtype="float64")
    else:
        work["cost"] = np.nan
    work["orders"] = (~lines["order_id"].duplicated()).to_numpy(dtype="float64")  # an order is one channel and day
    del lines
    daily = work.groupby(["date", "channel"], as_index=False).sum(min_count=1)
    del work
    commission = 0.0
    if channels is not None and "commission_rate" in channels:
        commission = daily["channel"].map(channels.set_index("channel")["commission_rate"]).fillna(0.0)
    daily["margin"] = daily["revenue"] * (1 - commission) - daily["cost"]
    daily = _complete(daily)
    daily["orders"] = daily["orders"].fillna(0.0)
    return daily[DAILY_COLUMNS]


def _complete(daily: pd.DataFrame) -> pd.DataFrame:
    """Every channel on every day of the range; missing days are zero sales (cost and margin too)."""
    dates = pd.date_range(daily["date"].min(), daily["date"].max(), freq="D")
    grid = pd.MultiIndex.from_product([dates, sorted(daily["channel"].unique())], names=["date", "channel"])
    out = daily.set_index(["date", "channel"]).reindex(grid)
    has_cost = out["cost"].notna().any()
    out = out.fillna({"units": 0.0, "revenue": 0.0, "list_value": 0.0})
    if has_cost:
        out = out.fillna({"cost": 0.0, "margin": 0.0})
    return out.reset_index()


def _order_counts(orders: pd.DataFrame, daily: pd.DataFrame) -> np.ndarray:
    require_columns(orders, ["order_id", "order_ts", "channel"], name="orders")
    live = orders if "status" not in orders else orders[orders["status"] != "cancelled"]
    counts = (live.assign(date=pd.to_datetime(live["order_ts"]).dt.normalize())
              .groupby(["date", "channel"])["order_id"].nunique())
    keys = pd.MultiIndex.from_frame(daily[["date", "channel"]])
    return counts.reindex(keys).fillna(0.0).to_numpy(dtype=float)


def marketing_daily(marketing: pd.DataFrame | None) -> pd.DataFrame | None:
    """Daily ``sessions`` and ``spend`` summed over the marketing channels (None without the table)."""
    if marketing is None:
        return None
    require_columns(marketing, ["date", "spend"], name="marketing")
    frame = marketing.assign(date=pd.to_datetime(marketing["date"]).dt.normalize())
    cols = [c for c in ("sessions", "spend") if c in frame]
    return frame.groupby("date")[cols].sum(min_count=1)
