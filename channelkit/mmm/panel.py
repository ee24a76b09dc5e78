"""The wide model panel from a contract dataset: daily sales, spend per marketing channel, controls.

Columns of :func:`dataset_panel` (one row per day):

- ``date``;
- ``sales``: gross sales of the day in money = the sales panel's ``revenue + returned_revenue``
  summed over SKUs and sales channels (cancelled lines never count; refunded lines were sold, and
  advertising drives the sale, not the refund);
- one column per paid marketing channel: its ``spend`` that day (0 on days without a row);
- ``discount``: the sales-weighted average discount off list price (price control);
- ``promo_share``: the share of sales made on promotion (promotion control).
"""
from __future__ import annotations

import pandas as pd

from channelkit.errors import MissingTableError

CONTROL_COLUMNS = ("discount", "promo_share")


def missing_inputs(dataset) -> str:
    """One sentence on what the dataset lacks for a marketing mix model ('' when it has it all):
    sales (order lines or a daily sales panel) and a ``marketing`` table with spend that varies."""
    marketing = getattr(dataset, "marketing", None)
    if marketing is None or marketing.empty:
        return ("**Not shown: the marketing mix model.** It needs daily ad spend per marketing channel: add "
                "marketing.csv (date, channel, spend, impressions, clicks; see docs/data.md) to the data folder.")
    if not (pd.to_numeric(marketing["spend"], errors="coerce").fillna(0) > 0).any():
        return "**Not shown: the marketing mix model.** The marketing table holds no spend above zero."
    return ""


def dataset_panel(dataset) -> pd.DataFrame:
    """One row per day of the dataset (see the module docstring); needs ``orders`` (or a sales
    panel) and ``marketing``."""
    from channelkit.data import daily_sales

    marketing = dataset.require("marketing", analysis="channelkit mmm")
    sales = daily_sales(dataset)
    if sales.empty:
        raise MissingTableError("channelkit mmm needs sales: the dataset's orders are empty")
    gross = sales["revenue"].fillna(0.0) + sales["returned_revenue"].fillna(0.0)
    listed = (sales["list_price"] * (sales["units"].fillna(0) + sales["returned_units"].fillna(0))).fillna(0.0)
    frame = pd.DataFrame({"date": pd.to_datetime(sales["date"]), "sales": gross, "listed": listed,
                          "promo_sales": gross.where(sales["promo"].fillna(False).astype(bool), 0.0)})
    day = frame.groupby("date").sum()
    out = pd.DataFrame({"sales": day["sales"]})
    out["discount"] = (1.0 - day["sales"] / day["listed"].where(day["listed"] > 0)).fillna(0.0)
    out["promo_share"] = (day["promo_sales"] / day["sales"].where(day["sales"] > 0)).fillna(0.0)
    spend = (marketing.assign(date=pd.to_datetime(marketing["date"]).dt.normalize())
             .pivot_table(index="date", columns="channel", values="spend", aggfunc="sum"))
    days = pd.date_range(min(out.index.min(), spend.index.min()), max(out.index.max(), spend.index.max()))
    first, last = out.index.min(), out.index.max()
    out = out.reindex(days).fillna({"sales": 0.0, "discount": 0.0, "promo_share": 0.0})
    spend = spend.reindex(days).fillna(0.0)
    spend.columns = [str(c) for c in spend.columns]
    panel = out.join(spend).loc[first:last]
    panel.index.name = "date"
    return panel.reset_index()[["date", "sales", *spend.columns, *CONTROL_COLUMNS]]
