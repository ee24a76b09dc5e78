"""One view of each customer across sales channels, and what cross-channel shoppers are worth.

Conventions (the same in every customer engine):

- A *purchase* is an order (``order_id``) with at least one ``paid`` line. ``cancelled`` lines
  never shipped and are dropped; ``refunded`` lines were returned, so they add nothing to the
  customer's net value, and an order whose lines were all refunded is not a purchase. The amount
  of a purchase is its net revenue: the sum of ``units * unit_price`` over its paid lines (the
  sales panel's definition of net revenue).
- Anonymous sales (empty ``customer_id``) cannot be followed over time and are left out.
- An order belongs to the channel it was placed in; a customer is a *cross-channel shopper* when
  their purchases span two or more sales channels within the period.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.customers._validate import as_timestamp, check_transactions, require_columns
from channelkit.errors import InputError


def customer_orders(orders: pd.DataFrame, *, include_refunded: bool = False) -> pd.DataFrame:
    """Collapse contract order lines into one row per purchase.

    Returns ``customer_id, order_id, order_ts, channel, revenue, units``, one row per order in the
    order of first appearance (not sorted: every engine sorts what it needs, and sorting millions
    of string ids here would cost minutes on a large shop). Lines with ``status == "cancelled"`` are dropped; ``refunded`` lines are dropped too
    unless ``include_refunded=True`` (gross instead of net value). A missing ``status`` column
    means every line is paid (the contract's default). Anonymous lines are dropped.
    """
    require_columns(orders, ["order_id", "order_ts", "customer_id", "channel", "units", "unit_price"], name="orders")
    lines = orders.loc[orders["customer_id"].notna()]
    if "status" in lines.columns:
        keep = ("paid", "refunded") if include_refunded else ("paid",)
        lines = lines.loc[lines["status"].fillna("paid").isin(keep)]
    if lines.empty:
        raise InputError("`orders` has no paid order lines with a customer id; nothing to analyse")
    # Integer order codes and bincount sums: a groupby with string "first" aggregations takes
    # minutes on the tens of millions of lines of a large shop; this takes seconds.
    codes, order_ids = pd.factorize(lines["order_id"], sort=False)
    n_orders = len(order_ids)
    revenue = np.bincount(codes, weights=lines["units"].to_numpy(float) * lines["unit_price"].to_numpy(float),
                          minlength=n_orders)
    units = np.bincount(codes, weights=lines["units"].to_numpy(float), minlength=n_orders)
    # An order is placed once: customer and channel come from its first line, time is its earliest line.
    first_line = np.full(n_orders, len(codes), dtype=np.int64)
    np.minimum.at(first_line, codes, np.arange(len(codes)))
    stamps = pd.to_datetime(lines["order_ts"]).to_numpy("datetime64[ns]").view("i8")
    earliest = np.full(n_orders, np.iinfo(np.int64).max)
    np.minimum.at(earliest, codes, stamps)
    out = pd.DataFrame({
        "customer_id": lines["customer_id"].to_numpy()[first_line].astype(str),
        "order_id": np.asarray(order_ids),
        "order_ts": earliest.view("datetime64[ns]"),
        "channel": lines["channel"].to_numpy()[first_line],
        "revenue": revenue,
        "units": units.astype(np.int64),
    })
    return out


def restrict_period(
    transactions: pd.DataFrame,
    *,
    start: object = None,
    end: object = None,
    date_col: str = "order_ts",
) -> pd.DataFrame:
    """Rows with ``start <= date_col`` and ``date_col < end + 1 day`` (``end`` inclusive by day).

    ``None`` leaves a side open. Raises :class:`InputError` if nothing remains.
    """
    require_columns(transactions, [date_col], name="transactions")
    out = transactions
    dates = pd.to_datetime(out[date_col])
    if start is not None:
        out = out.loc[dates >= as_timestamp(start, name="start")]
        dates = dates.loc[out.index]
    if end is not None:
        out = out.loc[dates < as_timestamp(end, name="end").normalize() + pd.Timedelta(days=1)]
    if out.empty:
        raise InputError(f"no purchases between start={start!r} and end={end!r}")
    return out


def customer_view(
    transactions: pd.DataFrame,
    *,
    as_of: object = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "revenue",
    channel_col: str = "channel",
) -> pd.DataFrame:
    """One row per customer across every sales channel, purchases up to ``as_of`` (inclusive).

    Columns: ``customer_id, first_purchase, last_purchase, orders, purchase_days, revenue,
    aov`` (revenue / orders), ``channels`` (number of distinct channels), ``first_channel``
    (channel of the first purchase; ties on the same instant go to the channel name first in
    sort order), ``main_channel`` (channel with the most revenue), ``cross_channel``
    (``channels >= 2``), ``days_since_last`` (``as_of`` minus the last purchase day, in days).
    ``as_of`` defaults to the last purchase in the log.
    """
    tx = check_transactions(transactions, customer_col=customer_col, date_col=date_col,
                            amount_col=amount_col, name="transactions")
    require_columns(tx, [channel_col], name="transactions")
    as_of_ts = as_timestamp(as_of, name="as_of") if as_of is not None else tx[date_col].max()
    tx = tx.loc[tx[date_col] < as_of_ts.normalize() + pd.Timedelta(days=1)]
    if tx.empty:
        raise InputError(f"no purchases on or before as_of={as_of!r}")
    # Group on integer codes (sorted like the names): grouping and sorting millions of string ids
    # is what makes a large shop slow, and codes keep every tie-break in name order.
    cust, ids = pd.factorize(tx[customer_col], sort=True)
    chan, names = pd.factorize(tx[channel_col], sort=True)
    frame = pd.DataFrame({"c": cust, "ts": tx[date_col].to_numpy(), "ch": chan,
                          "amt": tx[amount_col].to_numpy(float)}).sort_values(["c", "ts", "ch"])
    grouped = frame.groupby("c", sort=True)
    view = grouped.agg(first_purchase=("ts", "min"), last_purchase=("ts", "max"), orders=("ts", "size"),
                       revenue=("amt", "sum"), channels=("ch", "nunique"), first_channel=("ch", "first"))
    view["purchase_days"] = frame.assign(day=frame["ts"].dt.normalize()).groupby("c")["day"].nunique()
    by_channel = frame.groupby(["c", "ch"], sort=True)["amt"].sum().reset_index()
    # Most revenue wins; equal revenue goes to the channel first in name order (stable sort).
    main = by_channel.sort_values(["c", "amt"], ascending=[True, False], kind="stable").drop_duplicates("c")
    view["main_channel"] = np.asarray(names)[main.set_index("c")["ch"].reindex(view.index).to_numpy()]
    view["first_channel"] = np.asarray(names)[view["first_channel"].to_numpy()]
    view.index = pd.Index(np.asarray(ids)[view.index.to_numpy()], name=customer_col)
    view["aov"] = view["revenue"] / view["orders"]
    view["cross_channel"] = view["channels"] >= 2
    view["days_since_last"] = (as_of_ts.normalize() - view["last_purchase"].dt.normalize()).dt.days
    view = view.reset_index().rename(columns={customer_col: "customer_id"})
    return view[["customer_id", "first_purchase", "last_purchase", "orders", "purchase_days", "revenue", "aov",
                 "channels", "first_channel", "main_channel", "cross_channel", "days_since_last"]]


def cross_channel_summary(view: pd.DataFrame) -> pd.DataFrame:
    """Share and value of cross-channel shoppers, from :func:`customer_view`.

    One row per group (``single-channel``, ``cross-channel``) with ``customers``,
    ``share_customers``, ``revenue``, ``share_revenue``, ``orders_per_customer``,
    ``revenue_per_customer`` and ``aov`` (revenue / orders). Aggregates only: no customer ids.
    """
    require_columns(view, ["cross_channel", "revenue", "orders"], name="view")
    group = view["cross_channel"].map({True: "cross-channel", False: "single-channel"})
    out = view.groupby(group).agg(customers=("revenue", "size"), revenue=("revenue", "sum"),
                                  orders=("orders", "sum"))
    out = out.reindex(["single-channel", "cross-channel"], fill_value=0)
    out["share_customers"] = out["customers"] / out["customers"].sum()
    out["share_revenue"] = out["revenue"] / out["revenue"].sum()
    per = out["customers"].where(out["customers"] > 0)
    out["orders_per_customer"] = out["orders"] / per
    out["revenue_per_customer"] = out["revenue"] / per
    out["aov"] = out["revenue"] / out["orders"].where(out["orders"] > 0)
    return out.rename_axis("group").reset_index()


def channel_overlap(
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    channel_col: str = "channel",
) -> pd.DataFrame:
    """Customers shared by each pair of sales channels (a square frame, channel x channel).

    Cell (i, j) counts customers who bought in both channel i and channel j; the diagonal counts
    each channel's customers. Divide a row by its diagonal for "share of i's customers who also
    buy in j".
    """
    from scipy import sparse

    require_columns(transactions, [customer_col, channel_col], name="transactions")
    pairs = transactions[[customer_col, channel_col]].dropna()
    customers, _ = pd.factorize(pairs[customer_col])
    channels, names = pd.factorize(pairs[channel_col], sort=True)
    # Customer x channel incidence (0/1) as a sparse matrix: millions of customers stay cheap.
    incidence = sparse.coo_matrix((np.ones(len(pairs)), (customers, channels)),
                                  shape=(customers.max() + 1, len(names))).tocsr()
    incidence.data[:] = 1.0
    overlap = (incidence.T @ incidence).toarray().astype(np.int64)
    return pd.DataFrame(overlap, index=pd.Index(names, name=channel_col), columns=list(names))


def repeat_rate_by_channel(view: pd.DataFrame, *, channel: str = "first_channel") -> pd.DataFrame:
    """复购率 repeat-purchase rate per channel: customers with 2+ orders / customers.

    Grouped by ``channel`` (``first_channel`` by default, or ``main_channel``), from
    :func:`customer_view`. Columns: the channel, ``customers``, ``repeaters``, ``repeat_rate``,
    ``revenue_per_customer``. Orders are counted across all channels, so a customer whose first
    order was on Tmall and second in a store is a Tmall-acquired repeater.
    """
    require_columns(view, [channel, "orders", "revenue"], name="view")
    out = view.groupby(channel).agg(customers=("orders", "size"), repeaters=("orders", lambda s: int((s >= 2).sum())),
                                    revenue=("revenue", "sum"))
    out["repeat_rate"] = out["repeaters"] / out["customers"]
    out["revenue_per_customer"] = out["revenue"] / out["customers"]
    return out.drop(columns="revenue").reset_index().sort_values("customers", ascending=False, ignore_index=True)
