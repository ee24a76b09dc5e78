"""Channel KPIs: the scorecard of sales channels and the funnel of marketing channels.

Conventions (the same in every function; see ``../shared/DOMAIN.md``):

- Only ``paid`` order lines count as sales. ``cancelled`` lines never count; ``refunded`` lines
  (shipped, then returned) are left out of net revenue and reported as returns:
  revenue (GMV, 销售额) = sum of ``unit_price * units`` over paid lines; gross revenue = revenue +
  returned revenue; return rate (退货率) = returned revenue / gross revenue.
- orders (订单数) = distinct ``order_id`` with a paid line; units (销量) = units of paid lines;
  average order value (客单价) = revenue / orders; revenue share = channel revenue / all channels' revenue.
- repeat-purchase rate (复购率) = customers with 2+ distinct paid orders in the period / customers
  with a paid order in the period (per channel: orders in that channel). Lines without a customer
  id (anonymous store sales) are left out of both counts.
- gross margin after commission (毛利) = revenue - units * unit_cost - revenue * commission_rate;
  gross margin rate (毛利率) = gross margin / revenue.
- growth = revenue / revenue of the comparison period - 1 (NaN when that revenue is 0 or absent).
- A window ``[start, end]`` includes both days; timestamps are local time.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from channelkit.errors import InputError

DateLike = str | dt.date | pd.Timestamp | None
_ORDER_COLUMNS = ("order_id", "order_ts", "channel", "units", "unit_price")
ALL_CHANNELS = "All channels"


def _require(frame: pd.DataFrame, columns: tuple[str, ...] | list[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"`{name}` must be a pandas DataFrame, but got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"`{name}` lacks column(s) {missing}; it has {list(frame.columns)}")


def _safe_div(num: pd.Series | float, den: pd.Series | float) -> pd.Series | float:
    """num / den with NaN (never inf) where den is 0 or missing."""
    den = den.where(den != 0) if isinstance(den, pd.Series) else (den if den else np.nan)
    return num / den


def clip_window(frame: pd.DataFrame, start: DateLike = None, end: DateLike = None, *,
                ts_col: str = "order_ts") -> pd.DataFrame:
    """Rows of ``frame`` with ``start <= ts_col < end + 1 day`` (``None`` leaves a side open)."""
    ts = pd.to_datetime(frame[ts_col])
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= ts >= pd.Timestamp(start).normalize()
    if end is not None:
        keep &= ts < pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    return frame[keep]


def order_lines(orders: pd.DataFrame, *, products: pd.DataFrame | None = None,
                channels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Order lines with ``revenue = units * unit_price`` and, when ``products`` and ``channels`` are
    given, ``gross_margin = revenue - units * unit_cost - revenue * commission_rate``.

    Keeps every status (``status`` defaults to ``paid`` when absent); cancelled lines are dropped.
    """
    _require(orders, _ORDER_COLUMNS, "orders")
    lines = orders.copy()
    lines["status"] = lines["status"] if "status" in lines else "paid"
    lines = lines[lines["status"] != "cancelled"]
    lines["order_ts"] = pd.to_datetime(lines["order_ts"])
    lines["revenue"] = lines["units"] * lines["unit_price"]
    lines["gross_margin"] = np.nan
    if products is not None and channels is not None:
        _require(products, ("sku", "unit_cost"), "products")
        _require(channels, ("channel",), "channels")
        cost = lines["sku"].map(products.set_index("sku")["unit_cost"])
        rates = channels.set_index("channel")["commission_rate"] if "commission_rate" in channels else None
        commission = lines["channel"].map(rates).fillna(0.0) if rates is not None else 0.0
        lines["gross_margin"] = lines["revenue"] - lines["units"] * cost - lines["revenue"] * commission
    return lines


def _kpis(lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The KPI columns for ``lines`` (output of :func:`order_lines`) grouped by ``keys``."""
    paid = lines[lines["status"] == "paid"]
    out = paid.groupby(keys).agg(revenue=("revenue", "sum"), orders=("order_id", "nunique"),
                                 units=("units", "sum"), gross_margin=("gross_margin", "sum"))
    if paid["gross_margin"].isna().any():  # unknown cost or commission: no margin rather than a wrong one
        out["gross_margin"] = np.nan
    returned = lines[lines["status"] == "refunded"].groupby(keys)["revenue"].sum()
    out["returned_revenue"] = returned.reindex(out.index).fillna(0.0)
    per_customer = paid.dropna(subset=["customer_id"]).groupby(keys + ["customer_id"])["order_id"].nunique()
    out["customers"] = per_customer.groupby(level=keys).size().reindex(out.index).fillna(0).astype(int)
    repeat = (per_customer >= 2).groupby(level=keys).sum()
    out["repeat_customers"] = repeat.reindex(out.index).fillna(0).astype(int)
    out["aov"] = _safe_div(out["revenue"], out["orders"])
    out["repeat_rate"] = _safe_div(out["repeat_customers"], out["customers"])
    out["return_rate"] = _safe_div(out["returned_revenue"], out["revenue"] + out["returned_revenue"])
    out["gross_margin_rate"] = _safe_div(out["gross_margin"], out["revenue"])
    return out.reset_index()


def sales_channel_kpis(orders: pd.DataFrame, *, start: DateLike = None, end: DateLike = None,
                       freq: str | None = None, products: pd.DataFrame | None = None,
                       channels: pd.DataFrame | None = None, total: bool = False) -> pd.DataFrame:
    """KPIs per sales channel (and per period when ``freq`` is given, e.g. ``"M"``, ``"W"``, ``"Q"``).

    Returns one row per ``period`` x ``channel`` with ``revenue, orders, units, aov, revenue_share,
    customers, repeat_customers, repeat_rate, returned_revenue, return_rate, gross_margin,
    gross_margin_rate`` (formulas in the module docstring). ``period`` is the start of the pandas
    period, or ``start`` (else the first order day) when ``freq`` is None. ``total=True`` adds a row
    per period with ``channel == "All channels"`` (its repeat rate counts orders on any channel).
    Gross margin is NaN unless both ``products`` and ``channels`` are given.
    """
    lines = order_lines(clip_window(orders, start, end), products=products, channels=channels)
    if freq is not None:
        lines["period"] = lines["order_ts"].dt.to_period(freq).dt.start_time
    else:
        first = pd.Timestamp(start) if start is not None else lines["order_ts"].min().normalize()
        lines["period"] = first
    out = _kpis(lines, ["period", "channel"])
    out["revenue_share"] = _safe_div(out["revenue"], out.groupby("period")["revenue"].transform("sum"))
    if total:
        all_rows = _kpis(lines.assign(channel=ALL_CHANNELS), ["period", "channel"])
        all_rows["revenue_share"] = 1.0
        out = pd.concat([out, all_rows], ignore_index=True)
    cols = ["period", "channel", "revenue", "orders", "units", "aov", "revenue_share", "customers",
            "repeat_customers", "repeat_rate", "returned_revenue", "return_rate", "gross_margin", "gross_margin_rate"]
    return out[cols].sort_values(["period", "revenue"], ascending=[True, False]).reset_index(drop=True)


def comparison_windows(start: DateLike, end: DateLike) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """The window ``[start, end]``, the prior period of the same length just before it, and the same
    dates one year earlier (``pd.DateOffset(years=1)``; 29 February maps to 28 February)."""
    s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if e < s:
        raise InputError(f"`end` ({e.date()}) must not be before `start` ({s.date()})")
    days = pd.Timedelta(days=(e - s).days + 1)
    year = pd.DateOffset(years=1)
    return {"current": (s, e), "prior": (s - days, e - days), "last_year": (s - year, e - year)}


def channel_scorecard(orders: pd.DataFrame, *, start: DateLike, end: DateLike,
                      products: pd.DataFrame | None = None, channels: pd.DataFrame | None = None,
                      total: bool = True) -> pd.DataFrame:
    """The scorecard of the window ``[start, end]``: one row per sales channel (plus "All channels").

    Columns of :func:`sales_channel_kpis` (without ``period``) plus ``revenue_prior``,
    ``growth_prior`` (vs the period of the same length just before), ``revenue_last_year`` and
    ``growth_yoy`` (vs the same dates a year earlier); growth = revenue / comparison revenue - 1,
    NaN when the comparison revenue is 0 or there is no data then. Sorted by revenue, total last.
    """
    windows = comparison_windows(start, end)
    card = sales_channel_kpis(orders, start=start, end=end, products=products, channels=channels,
                              total=total).drop(columns="period")
    for label, column in (("prior", "revenue_prior"), ("last_year", "revenue_last_year")):
        s, e = windows[label]
        lines = order_lines(clip_window(orders, s, e))
        paid = lines[lines["status"] == "paid"]
        before = paid.groupby("channel")["revenue"].sum()
        before[ALL_CHANNELS] = paid["revenue"].sum()
        card[column] = card["channel"].map(before)
    card["growth_prior"] = _safe_div(card["revenue"], card["revenue_prior"]) - 1
    card["growth_yoy"] = _safe_div(card["revenue"], card["revenue_last_year"]) - 1
    card["_total"] = card["channel"] == ALL_CHANNELS
    card = card.sort_values(["_total", "revenue"], ascending=[True, False]).drop(columns="_total")
    return card.reset_index(drop=True)


def last_full_period(dates: pd.Series, *, freq: str = "M") -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the latest calendar period (``"M"`` month, ``"W"`` week, ``"Q"``
    quarter) that the data cover completely; the default window of a scorecard."""
    dates = pd.to_datetime(pd.Series(dates)).dropna()
    if dates.empty:
        raise InputError("`dates` is empty: there is no period to report")
    last = dates.max().normalize()
    period = last.to_period(freq)
    if last < period.end_time.normalize():
        period = period - 1
    if period.start_time < dates.min().normalize():
        raise InputError(f"the data ({dates.min().date()} to {last.date()}) cover no complete {freq} period")
    return period.start_time, period.end_time.normalize()


def last_touch_attribution(orders: pd.DataFrame, touchpoints: pd.DataFrame, *, lookback_days: int = 30,
                           products: pd.DataFrame | None = None,
                           channels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Credit each paid order to the marketing channel of the customer's last touch before it.

    A touch counts when it happened at most ``lookback_days`` before the order (the usual
    last-click window of ad dashboards is 7 to 30 days). Returns one row per credited order:
    ``order_id, order_ts, channel`` (the sales channel), ``marketing_channel, revenue, gross_margin``.
    Orders without a touch in the window (or without a customer id) are left out.
    """
    _require(touchpoints, ("customer_id", "ts", "channel"), "touchpoints")
    if lookback_days <= 0:
        raise InputError(f"`lookback_days` must be positive, but got {lookback_days}")
    lines = order_lines(orders, products=products, channels=channels)
    paid = lines[(lines["status"] == "paid") & lines["customer_id"].notna()]
    per_order = paid.groupby("order_id").agg(order_ts=("order_ts", "min"), channel=("channel", "first"),
                                             customer_id=("customer_id", "first"), revenue=("revenue", "sum"),
                                             gross_margin=("gross_margin", "sum")).reset_index()
    if paid["gross_margin"].isna().any():
        per_order["gross_margin"] = np.nan
    touches = touchpoints[["customer_id", "ts", "channel"]].rename(columns={"channel": "marketing_channel"})
    touches = touches.assign(ts=pd.to_datetime(touches["ts"]), customer_id=touches["customer_id"].astype(str))
    per_order["customer_id"] = per_order["customer_id"].astype(str)
    credited = pd.merge_asof(per_order.sort_values("order_ts"), touches.sort_values("ts"), left_on="order_ts",
                             right_on="ts", by="customer_id", direction="backward",
                             tolerance=pd.Timedelta(days=lookback_days))
    credited = credited.dropna(subset=["marketing_channel"])
    return credited[["order_id", "order_ts", "channel", "marketing_channel", "revenue", "gross_margin"]] \
        .sort_values("order_ts").reset_index(drop=True)


def marketing_kpis(marketing: pd.DataFrame, *, start: DateLike = None, end: DateLike = None,
                   attributed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Funnel and return per marketing channel over ``[start, end]``.

    Sums ``spend, impressions, clicks, sessions`` (and the platforms' own ``platform_conversions``)
    per channel, then: CTR (点击率) = clicks / impressions; CPC = spend / clicks. When
    ``attributed`` (e.g. :func:`last_touch_attribution`) is given, its orders in the window are
    the channel's ``orders`` and ``revenue``; otherwise ``orders`` are the platforms' claimed
    conversions (double-counted across platforms) and revenue is unknown. Then conversion rate
    (转化率) = orders / sessions; CPA = spend / orders; ROAS = revenue / spend (what Chinese ad
    dashboards call ROI); ROI = (gross margin - spend) / spend, only where the margin is known.
    Sorted by spend, largest first.
    """
    _require(marketing, ("date", "channel", "spend", "impressions", "clicks"), "marketing")
    frame = clip_window(marketing, start, end, ts_col="date").copy()
    for col in ("sessions", "conversions"):
        if col not in frame:
            frame[col] = np.nan
    out = frame.groupby("channel").agg(spend=("spend", "sum"), impressions=("impressions", "sum"),
                                       clicks=("clicks", "sum"), sessions=("sessions", lambda s: s.sum(min_count=1)),
                                       platform_conversions=("conversions", lambda s: s.sum(min_count=1)))
    if attributed is not None:
        _require(attributed, ("order_id", "order_ts", "marketing_channel", "revenue"), "attributed")
        won = clip_window(attributed, start, end).groupby("marketing_channel")
        out["orders"] = won["order_id"].nunique().reindex(out.index).fillna(0)
        out["revenue"] = won["revenue"].sum().reindex(out.index).fillna(0.0)
        margin = won["gross_margin"].sum(min_count=1) if "gross_margin" in attributed else None
        out["gross_margin"] = margin.reindex(out.index) if margin is not None else np.nan
        if "gross_margin" in attributed and attributed["gross_margin"].isna().any():
            out["gross_margin"] = np.nan
    else:
        out["orders"], out["revenue"], out["gross_margin"] = out["platform_conversions"], np.nan, np.nan
    out["ctr"] = _safe_div(out["clicks"], out["impressions"])
    out["cpc"] = _safe_div(out["spend"], out["clicks"])
    out["conversion_rate"] = _safe_div(out["orders"], out["sessions"])
    out["cpa"] = _safe_div(out["spend"], out["orders"])
    out["roas"] = _safe_div(out["revenue"], out["spend"])
    out["roi"] = _safe_div(out["gross_margin"] - out["spend"], out["spend"])
    cols = ["channel", "spend", "impressions", "clicks", "ctr", "cpc", "sessions", "orders", "conversion_rate",
            "cpa", "revenue", "roas", "gross_margin", "roi", "platform_conversions"]
    return out.reset_index()[cols].sort_values("spend", ascending=False).reset_index(drop=True)
