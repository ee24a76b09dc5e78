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

from channelkit.customers._validate import DAY_NS, as_timestamp, prepare, require_columns, sorted_codes
from channelkit.errors import InputError


def customer_orders(orders: pd.DataFrame, *, include_refunded: bool = False) -> pd.DataFrame:
    """Collapse contract order lines into one row per purchase.

    Returns ``customer_id, order_id, order_ts, channel, revenue, units``, one row per order in the
    order of first appearance (not sorted: every engine sorts what it needs). ``customer_id`` is
    a categorical whose categories are the ids as sorted strings: the ids are hashed once here,
    and every customer engine then groups on the integer codes instead of millions of strings.
    Lines with ``status == "cancelled"`` are dropped; ``refunded`` lines are dropped too unless
    ``include_refunded=True`` (gross instead of net value). A missing ``status`` column means
    every line is paid (the contract's default). Anonymous lines are dropped.
    """
    require_columns(orders, ["order_id", "order_ts", "customer_id", "channel", "units", "unit_price"], name="orders")
    # One mask and only the needed columns: filtering whole frames of tens of millions of lines
    # (copying every column, twice) cost more than the aggregation itself.
    keep = orders["customer_id"].notna().to_numpy()
    if "status" in orders.columns:
        allowed = ("paid", "refunded") if include_refunded else ("paid",)
        keep &= (orders["status"].isin(allowed) | orders["status"].isna()).to_numpy()  # missing = paid
    rows = np.flatnonzero(keep)
    if not len(rows):
        raise InputError("`orders` has no paid order lines with a customer id; nothing to analyse")
    every = len(rows) == len(orders)

    def column(name: str, dtype: type | None = None) -> np.ndarray:
        values = orders[name].to_numpy(dtype)
        return values if every else values[rows]

    # Integer order codes and bincount sums: a groupby with string "first" aggregations takes
    # minutes on the tens of millions of lines of a large shop; this takes seconds.
    # Factorize the column itself: pyarrow-backed ids are hashed by pyarrow, never turned into objects.
    codes, order_ids = pd.factorize(orders["order_id"] if every else orders["order_id"].iloc[rows], sort=False)
    n_orders = len(order_ids)
    line_units = column("units", float)
    revenue = np.bincount(codes, weights=line_units * column("unit_price", float), minlength=n_orders)
    units = np.bincount(codes, weights=line_units, minlength=n_orders)
    # An order is placed once: customer and channel come from its first line, time is its earliest line.
    first_line = np.full(n_orders, len(codes), dtype=np.int64)
    np.minimum.at(first_line, codes, np.arange(len(codes)))
    stamps = pd.to_datetime(pd.Series(column("order_ts"))).to_numpy("datetime64[ns]").view("i8")
    earliest = np.full(n_orders, np.iinfo(np.int64).max)
    np.minimum.at(earliest, codes, stamps)
    first_rows = rows[first_line]  # positions in `orders` of each order's first kept line
    customer_codes, ids = sorted_codes(orders["customer_id"].iloc[first_rows])
    out = pd.DataFrame({
        "customer_id": pd.Categorical.from_codes(customer_codes, categories=pd.Index(ids, dtype=object)),
        "order_id": order_ids,
        "order_ts": earliest.view("datetime64[ns]"),
        "channel": orders["channel"].to_numpy()[first_rows],
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
    ``as_of`` defaults to the last purchase in the log. Rows are in customer-id order.
    """
    tx = prepare(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                 as_of=as_of, columns=(channel_col,))
    chan, names = _channel_codes(tx.extra[channel_col], channel_col)
    # One sort by (customer, time, channel name); every per-customer figure is then read off the
    # group boundaries, with no string keys and no per-group Python.
    order = np.lexsort((chan, tx.ts, tx.codes))
    cust, ts, ch, amt = tx.codes[order], tx.ts[order], chan[order], tx.amount[order]
    n, k = len(tx.ids), len(names)
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    ends = np.r_[starts[1:], len(cust)] - 1
    day = ts // DAY_NS
    new_day = np.r_[True, (cust[1:] != cust[:-1]) | (day[1:] != day[:-1])]
    # Sums with pandas (compensated summation), in the same row order as before.
    revenue = pd.Series(amt).groupby(cust, sort=True).sum().to_numpy()
    # Revenue per (customer, channel) pair present: a sparse table, whatever the number of channels.
    by_pair = pd.Series(amt).groupby(cust * k + ch, sort=True).sum()
    pair_cust, pair_chan = np.divmod(by_pair.index.to_numpy(), k)
    # Most revenue wins; equal revenue goes to the channel first in name order (stable sort).
    best = np.lexsort((-by_pair.to_numpy(), pair_cust))
    best = best[np.r_[True, pair_cust[best][1:] != pair_cust[best][:-1]]]
    as_of_day = tx.as_of.normalize().value // DAY_NS
    view = pd.DataFrame({
        "customer_id": tx.ids,
        "first_purchase": ts[starts].view("datetime64[ns]"),
        "last_purchase": ts[ends].view("datetime64[ns]"),
        "orders": np.diff(np.r_[starts, len(cust)]).astype(np.int64),
        "purchase_days": np.add.reduceat(new_day.astype(np.int64), starts),
        "revenue": revenue,
    })
    view["aov"] = view["revenue"] / view["orders"]
    view["channels"] = np.bincount(pair_cust, minlength=n).astype(np.int64)
    view["first_channel"] = names[ch[starts]]
    view["main_channel"] = names[pair_chan[best]]
    view["cross_channel"] = view["channels"] >= 2
    view["days_since_last"] = (as_of_day - day[ends]).astype(np.int64)
    return view


def _channel_codes(values: np.ndarray, channel_col: str) -> tuple[np.ndarray, np.ndarray]:
    """Channel codes in name order and the names (object array); a missing channel is an error."""
    codes, names = pd.factorize(values, sort=True)
    if (codes < 0).any():
        raise InputError(f"`transactions` column '{channel_col}' has {(codes < 0).sum()} empty value(s); "
                         "every purchase needs its sales channel")
    return codes.astype(np.int64), np.asarray(names, dtype=object)


def cross_channel_summary(view: pd.DataFrame) -> pd.DataFrame:
    """Share and value of cross-channel shoppers, from :func:`customer_view`.

    One row per group (``single-channel``, ``cross-channel``) with ``customers``,
    ``share_customers``, ``revenue``, ``share_revenue``, ``orders_per_customer``,
    ``revenue_per_customer`` and ``aov`` (revenue / orders). Aggregates only: no customer ids.
    """
    require_columns(view, ["cross_channel", "revenue", "orders"], name="view")
    # Group on the boolean itself (cheap on millions of rows), then name the groups.
    out = view.groupby(view["cross_channel"].astype(bool).rename("group")).agg(
        customers=("revenue", "size"), revenue=("revenue", "sum"), orders=("orders", "sum"))
    out = out.reindex([False, True], fill_value=0)
    out.index = pd.Index(["single-channel", "cross-channel"], name="group")
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
    customers, _ = pd.factorize(transactions[customer_col])  # hashes ints for a categorical column
    channels, names = pd.factorize(transactions[channel_col], sort=True)
    both = (customers >= 0) & (channels >= 0)
    customers, channels = customers[both], channels[both]
    # Customer x channel incidence (0/1) as a sparse matrix: millions of customers stay cheap.
    incidence = sparse.coo_matrix((np.ones(len(customers)), (customers, channels)),
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
    repeaters = (view["orders"] >= 2).astype(np.int64).rename("repeaters")
    out = pd.concat([view[[channel, "orders", "revenue"]], repeaters], axis=1).groupby(channel).agg(
        customers=("orders", "size"), repeaters=("repeaters", "sum"), revenue=("revenue", "sum"))
    out["repeat_rate"] = out["repeaters"] / out["customers"]
    out["revenue_per_customer"] = out["revenue"] / out["customers"]
    return out.drop(columns="revenue").reset_index().sort_values("customers", ascending=False, ignore_index=True)
