"""Is something wrong today? Price disorder across channels, sales anomalies, stock about to run out.

Three checks a channel manager runs every morning, each a pure function over tidy frames:

- :func:`price_consistency`: SKUs whose price on a channel departs from the list price or from the
  other channels (价格乱象) by more than a tolerance.
- :func:`sales_anomalies`: days and channels whose revenue departs from what the weekly pattern
  predicts: STL decomposition (Cleveland et al. 1990, ``statsmodels.tsa.seasonal.STL``, robust
  fitting) and a modified z-score of the residuals against their median absolute deviation (MAD;
  Iglewicz & Hoaglin's 3.5 threshold).
- :func:`inventory_risk`: SKUs whose days of cover (库存可售天数) is below their replenishment
  lead time (库存预警).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from statsmodels.tsa.seasonal import STL

from channelkit.errors import InputError
from channelkit.metrics.channel import DateLike, _require, clip_window, order_lines

# 1 / Phi^-1(3/4): makes the MAD a consistent estimate of the standard deviation under normality.
MAD_SCALE = 1.4826


def price_consistency(orders: pd.DataFrame, products: pd.DataFrame, *, tolerance: float = 0.05,
                      start: DateLike = None, end: DateLike = None,
                      price: Literal["paid", "shelf"] = "paid", only_flagged: bool = True) -> pd.DataFrame:
    """Price of each SKU on each sales channel against its list price and the other channels.

    ``price="paid"`` uses the average price customers paid (revenue / units over paid lines in
    ``[start, end]``), ``"shelf"`` the units-weighted shelf price (``orders.list_price``). Columns:
    ``sku, channel, price, list_price`` (the catalogue's), ``vs_list = price / list_price - 1``,
    ``others_price`` (median price of the SKU on its other channels), ``vs_others = price /
    others_price - 1``, ``units`` and ``issue`` (a sentence). A row is flagged when ``|vs_list|`` or
    ``|vs_others|`` exceeds ``tolerance`` (a share: 0.05 = 5%). Sorted by the largest departure.
    """
    if not 0 < tolerance < 1:
        raise InputError(f"`tolerance` must satisfy 0 < tolerance < 1 (a share), but got {tolerance}")
    if price not in ("paid", "shelf"):
        raise InputError(f"`price` must be 'paid' or 'shelf', but got {price!r}")
    _require(products, ("sku", "list_price"), "products")
    lines = order_lines(clip_window(orders, start, end))
    paid = lines[lines["status"] == "paid"].copy()
    paid["shelf_amount"] = paid["units"] * paid["list_price"]
    table = paid.groupby(["sku", "channel"]).agg(units=("units", "sum"), revenue=("revenue", "sum"),
                                                  shelf_amount=("shelf_amount", "sum")).reset_index()
    table["price"] = table["revenue" if price == "paid" else "shelf_amount"] / table["units"]
    table["list_price"] = table["sku"].map(products.set_index("sku")["list_price"])
    table["vs_list"] = table["price"] / table["list_price"] - 1
    table["others_price"] = [
        table.loc[(table["sku"] == sku) & (table["channel"] != ch), "price"].median()
        for sku, ch in zip(table["sku"], table["channel"])
    ]
    table["vs_others"] = table["price"] / table["others_price"] - 1
    table["departure"] = table[["vs_list", "vs_others"]].abs().max(axis=1)
    table["issue"] = [_price_issue(r.vs_list, r.vs_others, tolerance) for r in table.itertuples()]
    if only_flagged:
        table = table[table["issue"] != ""]
    cols = ["sku", "channel", "price", "list_price", "vs_list", "others_price", "vs_others", "units", "issue"]
    return table.sort_values("departure", ascending=False)[cols].reset_index(drop=True)


def _price_issue(vs_list: float, vs_others: float, tolerance: float) -> str:
    parts = []
    if abs(vs_list) > tolerance:
        parts.append(f"{abs(vs_list):.0%} {'below' if vs_list < 0 else 'above'} list price")
    if pd.notna(vs_others) and abs(vs_others) > tolerance:
        parts.append(f"{abs(vs_others):.0%} {'below' if vs_others < 0 else 'above'} other channels")
    return "; ".join(parts)


def robust_zscore(values: np.ndarray | pd.Series) -> np.ndarray:
    """Modified z-score: (x - median) / (1.4826 * MAD); NaN everywhere when the MAD is (numerically) 0,
    e.g. the residuals of a perfectly regular series, which has nothing to alert on."""
    x = np.asarray(values, dtype=float)
    med = np.nanmedian(x)
    mad = np.nanmedian(np.abs(x - med))
    if not mad > 1e-9 * max(1.0, float(np.nanmedian(np.abs(x)))):
        return np.full_like(x, np.nan)
    return (x - med) / (MAD_SCALE * mad)


def _complete_daily(daily: pd.DataFrame, date_col: str, value_col: str, id_cols: list[str]) -> pd.DataFrame:
    """Sum ``value_col`` per id and day, with every day of the range present (0 when no sales)."""
    frame = daily.assign(**{date_col: pd.to_datetime(daily[date_col]).dt.normalize()})
    sums = frame.groupby(id_cols + [date_col])[value_col].sum()
    days = pd.date_range(frame[date_col].min(), frame[date_col].max(), freq="D")
    ids = sums.index.droplevel(date_col).unique()
    full = pd.MultiIndex.from_tuples([(*(i if isinstance(i, tuple) else (i,)), d) for i in ids for d in days],
                                     names=id_cols + [date_col])
    return sums.reindex(full, fill_value=0.0).reset_index()


def sales_anomalies(daily: pd.DataFrame, *, date_col: str = "date", value_col: str = "revenue",
                    id_cols: Sequence[str] = ("channel",), period: int = 7, threshold: float = 3.5,
                    seasonal: int = 35, trend: int | None = 29, log: bool = True,
                    start: DateLike = None, end: DateLike = None) -> pd.DataFrame:
    """Days whose ``value_col`` departs from what the seasonal pattern predicts, per series.

    Per series (``id_cols``, summed over other columns, missing days as 0): an STL decomposition
    with seasonal ``period`` (7 = weekly) and robust fitting; expected = trend + seasonal; the
    loess windows ``seasonal`` (35 days: a weekly shape that drifts slowly) and ``trend`` (29 days;
    ``None`` = statsmodels' default) are wider than statsmodels' defaults (7 and ~15) because
    narrow windows follow the noise, shrink the residuals and so inflate the scores; the
    residual's modified z-score ``(r - median(r)) / (1.4826 * MAD(r))``; an alert when its absolute
    value exceeds ``threshold`` (3.5, Iglewicz & Hoaglin). ``log=True`` decomposes ``log1p(value)``
    so that departures are relative (a 30% drop alerts alike on a big and a small channel); the
    expected value is then transformed back. Alerts between ``start`` and ``end`` (the whole
    history is still used to fit). Columns: ``date, <id_cols>, expected, actual, deviation
    (actual - expected), score, direction`` (``above``/``below``), latest first.
    """
    id_cols = list(id_cols)
    _require(daily, [date_col, value_col, *id_cols], "daily")
    if period < 2 or threshold <= 0:
        raise InputError(f"`period` must be >= 2 and `threshold` > 0, but got period={period}, threshold={threshold}")
    full = _complete_daily(daily, date_col, value_col, id_cols)
    rows = []
    for key, series in full.groupby(id_cols):
        y = series.set_index(date_col)[value_col].astype(float).asfreq("D")
        if len(y) < 2 * period + 1:
            continue  # STL needs two full cycles
        fit = STL(np.log1p(y.clip(lower=0)) if log else y, period=period, seasonal=seasonal, trend=trend,
                  robust=True).fit()
        base = fit.trend + fit.seasonal
        expected = np.expm1(base) if log else base
        score = robust_zscore(fit.resid)
        frame = pd.DataFrame({date_col: y.index, "expected": expected.to_numpy(), "actual": y.to_numpy(),
                              "score": score})
        for col, value in zip(id_cols, key if isinstance(key, tuple) else (key,)):
            frame[col] = value
        rows.append(frame[np.abs(frame["score"]) > threshold])
    cols = [date_col, *id_cols, "expected", "actual", "deviation", "score", "direction"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = clip_window(pd.concat(rows, ignore_index=True), start, end, ts_col=date_col)
    out = out.assign(deviation=out["actual"] - out["expected"],
                     direction=np.where(out["score"] > 0, "above", "below"))
    return out[cols].sort_values([date_col, *id_cols], ascending=[False] + [True] * len(id_cols)) \
        .reset_index(drop=True)


def label_events(alerts: pd.DataFrame, events: pd.DataFrame | None = None, *, date_col: str = "date",
                 channel_col: str = "channel") -> pd.DataFrame:
    """Add an ``event`` column naming the known events on each alert's day ("" when none).

    ``events`` is the contract's events table (``date, event`` and optional ``channel``: an event
    with an empty channel applies to every channel). Without it, China's shopping festivals and
    public holidays from :mod:`channelkit.data.calendar` (offline) are used. Alerts on known event
    days are expected departures from the weekly pattern; the others deserve a look first.
    """
    from channelkit.data.calendar import festival_calendar, public_holidays

    out = alerts.copy()
    if out.empty:
        return out.assign(event=pd.Series(dtype=str))
    if events is None:
        lo, hi = pd.to_datetime(out[date_col]).min(), pd.to_datetime(out[date_col]).max()
        events = pd.concat([festival_calendar(lo, hi)[["date", "event"]], public_holidays(lo, hi)[["date", "event"]]])
    _require(events, ("date", "event"), "events")
    ev = events.assign(date=pd.to_datetime(events["date"]).dt.normalize())
    scoped = ev["channel"] if "channel" in ev else pd.Series(np.nan, index=ev.index)
    names = []
    for day, channel in zip(pd.to_datetime(out[date_col]).dt.normalize(),
                            out[channel_col] if channel_col in out else [None] * len(out)):
        hit = ev[(ev["date"] == day) & (scoped.isna() | (scoped == channel))]["event"]
        names.append(", ".join(dict.fromkeys(hit.astype(str))))
    out["event"] = names
    return out


def inventory_risk(inventory: pd.DataFrame, sales: pd.DataFrame, *, as_of: DateLike = None,
                   window_days: int = 28, date_col: str = "date", units_col: str = "units",
                   only_at_risk: bool = True) -> pd.DataFrame:
    """SKUs whose stock will not last until a reorder placed today arrives.

    Per SKU (locations pooled: stock summed, the longest lead time kept): daily demand = units
    sold over the ``window_days`` days up to ``as_of`` (inclusive) / ``window_days``; days of cover
    = on_hand / daily demand (infinite without demand); at risk when days of cover <
    ``lead_time_days``; ``shortfall_units`` = ceil(daily demand * lead time - on_hand), at least 0.
    ``as_of`` defaults to the inventory's ``as_of`` date, else the last sales day. Sorted by days
    of cover. ``sales`` is a daily panel (``daily_sales``) or any frame with date, sku and units.
    """
    _require(inventory, ("sku", "on_hand", "lead_time_days"), "inventory")
    _require(sales, (date_col, "sku", units_col), "sales")
    if window_days < 1:
        raise InputError(f"`window_days` must be at least 1, but got {window_days}")
    if as_of is None:
        known = pd.to_datetime(inventory["as_of"]).max() if "as_of" in inventory else pd.NaT
        as_of = known if pd.notna(known) else pd.to_datetime(sales[date_col]).max()
    as_of = pd.Timestamp(as_of).normalize()
    recent = clip_window(sales, as_of - pd.Timedelta(days=window_days - 1), as_of, ts_col=date_col)
    demand = recent.groupby("sku")[units_col].sum() / window_days
    stock = inventory.groupby("sku").agg(on_hand=("on_hand", "sum"), lead_time_days=("lead_time_days", "max"))
    stock["daily_demand"] = demand.reindex(stock.index).fillna(0.0).clip(lower=0)
    with np.errstate(divide="ignore"):
        stock["days_of_cover"] = np.where(stock["daily_demand"] > 0, stock["on_hand"] / stock["daily_demand"], np.inf)
    stock["at_risk"] = stock["days_of_cover"] < stock["lead_time_days"]
    need = np.ceil(stock["daily_demand"] * stock["lead_time_days"] - stock["on_hand"] - 1e-9)
    stock["shortfall_units"] = need.clip(lower=0).astype(int)
    stock["as_of"] = as_of
    if only_at_risk:
        stock = stock[stock["at_risk"]]
    cols = ["sku", "on_hand", "daily_demand", "days_of_cover", "lead_time_days", "shortfall_units", "at_risk", "as_of"]
    return stock.reset_index().sort_values("days_of_cover")[cols].reset_index(drop=True)
