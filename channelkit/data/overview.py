"""What is in a dataset: tables, row counts, date ranges, revenue by channel and month, data quality.

The functions behind ``notebooks/00_data_overview.ipynb``. They read a validated
:class:`~channelkit.data.dataset.Dataset` and return tidy frames; they never print or plot.

Revenue here is *net* revenue as the sales panel defines it (paid lines only; refunded lines are
returns, cancelled lines are excluded), so these figures agree with every other notebook.
"""
from __future__ import annotations

import pandas as pd

from channelkit.data.contract import TABLES

# The column that dates each table, for the date-range overview.
_DATE_COLUMNS = {
    "orders": "order_ts",
    "marketing": "date",
    "touchpoints": "ts",
    "events": "date",
    "inventory": "as_of",
    "sales": "date",
}


# Tables whose empty cells carry a documented meaning (an event for all channels, a snapshot
# without a date), so missing values there are not a quality finding.
_EMPTY_MEANS_SOMETHING = ("events", "inventory")


def table_overview(dataset) -> pd.DataFrame:
    """One row per table present: ``table``, ``rows``, ``columns``, ``first``, ``last`` (dates, when dated).

    Optional tables that are absent are listed with ``rows`` 0 and ``present`` False, so a reader
    sees what the dataset lacks (and which analyses will say so).
    """
    tables = dataset.tables()
    rows = []
    for name, spec in TABLES.items():
        frame = tables.get(name)
        first = last = pd.NaT
        if frame is not None and _DATE_COLUMNS.get(name) in frame.columns and len(frame):
            dates = pd.to_datetime(frame[_DATE_COLUMNS[name]])
            first, last = dates.min(), dates.max()
        rows.append({
            "table": name,
            "present": frame is not None,
            "required": spec.required,
            "rows": 0 if frame is None else len(frame),
            "columns": 0 if frame is None else frame.shape[1],
            "first": first,
            "last": last,
        })
    return pd.DataFrame(rows)


def revenue_by_channel_month(panel: pd.DataFrame) -> pd.DataFrame:
    """Net revenue and units per sales channel and calendar month from the daily sales panel.

    Columns: ``month`` (first day of the month), ``channel``, ``revenue``, ``units``.
    """
    month = pd.to_datetime(panel["date"]).dt.to_period("M").dt.to_timestamp()
    out = (
        panel.assign(month=month)
        .groupby(["month", "channel"], as_index=False)[["revenue", "units"]]
        .sum()
    )
    return out.sort_values(["month", "channel"]).reset_index(drop=True)


def data_quality(dataset) -> pd.DataFrame:
    """Data-quality findings an analyst should know before trusting any number.

    Returns one row per check with ``check``, ``table``, ``value`` (a share 0-1 or a count) and
    ``unit`` (``share`` or ``count``). Checks: missing values per nullable column, the shares of
    cancelled and refunded order lines, order lines without a customer id (anonymous sales), order
    lines sold at more than list price, and the number of distinct customers. Empty cells in
    ``events`` and ``inventory`` have a documented meaning and are not counted.
    """
    rows: list[dict] = []
    for name, frame in dataset.tables().items():
        if name in _EMPTY_MEANS_SOMETHING:
            continue
        for col in frame.columns:
            missing = int(frame[col].isna().sum())
            if missing:
                rows.append({"check": f"missing {col}", "table": name, "value": missing / len(frame),
                             "unit": "share"})
    orders = getattr(dataset, "orders", None)
    if orders is not None and len(orders):
        status = orders["status"] if "status" in orders.columns else pd.Series("paid", index=orders.index)
        for st in ("cancelled", "refunded"):
            rows.append({"check": f"{st} order lines", "table": "orders", "value": float((status == st).mean()),
                         "unit": "share"})
        rows.append({"check": "lines above list price", "table": "orders",
                     "value": float((orders["unit_price"] > orders["list_price"] * 1.0001).mean()), "unit": "share"})
        rows.append({"check": "distinct customers", "table": "orders",
                     "value": int(orders["customer_id"].nunique()), "unit": "count"})
    return pd.DataFrame(rows, columns=["check", "table", "value", "unit"])


def clip_dates(frame: pd.DataFrame, start=None, end=None, *, date_col: str = "date") -> pd.DataFrame:
    """Rows of ``frame`` with ``start <= date_col <= end``; ``None`` leaves that side open."""
    dates = pd.to_datetime(frame[date_col])
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= dates >= pd.Timestamp(start)
    if end is not None:
        keep &= dates <= pd.Timestamp(end)
    return frame.loc[keep]
