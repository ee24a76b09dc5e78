"""Sample variants: the shapes of data real shops bring, cut from the sample retailer.

A real export rarely has every table, two full years and five channels. :func:`make_variant`
copies a sample folder and reshapes it, so the report can be run (and tested) on each shape the
contract allows:

- ``drop``: optional tables left out (``marketing``, ``touchpoints``, ``inventory``, ``events``);
- ``months``: keep only the last ``months`` months of dated rows (e.g. 10: no year-on-year);
- ``skus``: keep the ``skus`` best-selling SKUs (small, fast variants);
- ``channels=1``: keep only the largest sales channel; ``channels=N`` (more than the sample has):
  split every sales channel into stores by a hash of the order id, named ``<channel>_<k>`` (and,
  to exercise fonts, every third one in Chinese: ``门店_<k>``), so the report meets N channels;
- ``no_unit_cost``: empty ``products.unit_cost``, as a grocer's export without costs;
- ``anonymous``: no customer ids (stores without a loyalty card);
- ``panel_only``: a daily ``sales`` panel instead of ``orders`` (a user who only has a panel).

With ``skus``, touchpoints are trimmed to the customers who still have orders plus a tenth of the
others (by a hash of the id), so journeys that never converted remain.

``truth.json`` is never copied: a reshaped folder no longer matches the generator's truth, as a
user's data has none. Every table is written as CSV. Pure pandas, deterministic (no random draw).
"""
from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from channelkit.errors import InputError

OPTIONAL_TABLES = ("marketing", "touchpoints", "inventory", "events")
_DATE_COLUMNS = {"orders": "order_ts", "marketing": "date", "touchpoints": "ts", "events": "date"}


def read_folder(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every contract table file of ``folder`` (CSV or Parquet) as a raw frame, keyed by table."""
    from channelkit.data.contract import TABLES

    out = {}
    for name in TABLES:
        for suffix, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
            path = Path(folder) / f"{name}{suffix}"
            if path.is_file():
                out[name] = reader(path)
                break
    return out


def make_variant(source: str | Path, out_dir: str | Path, *, drop: Sequence[str] = (), months: int | None = None,
                 skus: int | None = None, channels: int | None = None, no_unit_cost: bool = False,
                 anonymous: bool = False, panel_only: bool = False) -> Path:
    """Write a reshaped copy of the sample folder ``source`` to ``out_dir`` (see the module docstring)."""
    unknown = [t for t in drop if t not in OPTIONAL_TABLES]
    if unknown:
        raise InputError(f"`drop` may name only optional tables {OPTIONAL_TABLES}, but got {unknown}")
    for name, value in (("months", months), ("skus", skus), ("channels", channels)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise InputError(f"`{name}` must be a positive whole number or None, but got {value!r}")
    tables = {k: v for k, v in read_folder(source).items() if k not in drop}
    if "orders" not in tables:
        raise InputError(f"`source` {str(source)!r} has no orders table; give a sample folder")
    if skus is not None:
        tables = keep_top_skus(tables, skus)
    if months is not None:
        tables = keep_last_months(tables, months)
    if channels is not None:
        tables = one_channel(tables) if channels == 1 else split_channels(tables, channels)
    if no_unit_cost:
        tables["products"] = tables["products"].assign(unit_cost=float("nan"))
    if anonymous:
        tables["orders"] = tables["orders"].assign(customer_id=None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    if panel_only:
        from channelkit.data import daily_sales, load_dataset

        daily_sales(load_dataset(out)).drop(columns=["free_units"]).to_csv(out / "sales.csv", index=False)
        (out / "orders.csv").unlink()
    return out


def keep_top_skus(tables: dict[str, pd.DataFrame], n: int) -> dict[str, pd.DataFrame]:
    """Only the ``n`` SKUs with the most units (ties by name) in every table that has a SKU."""
    units = tables["orders"].groupby("sku")["units"].sum().sort_index()
    keep = set(units.sort_values(ascending=False, kind="stable").index[:n])
    out = dict(tables)
    for name, frame in tables.items():
        if "sku" in frame.columns:
            out[name] = frame[frame["sku"].isna() | frame["sku"].isin(keep)] if name == "events" else \
                frame[frame["sku"].isin(keep)]
    if "touchpoints" in tables:
        touches = tables["touchpoints"]
        buyers = set(out["orders"]["customer_id"].dropna().astype(str))
        ids = touches["customer_id"].astype(str)
        tenth = ids.map(lambda s: zlib.crc32(s.encode("utf-8")) % 10 == 0)
        out["touchpoints"] = touches[ids.isin(buyers) | tenth]
    return out


def keep_last_months(tables: dict[str, pd.DataFrame], months: int) -> dict[str, pd.DataFrame]:
    """Dated rows within the last ``months`` months before the last order (inventory kept as is)."""
    end = pd.to_datetime(tables["orders"]["order_ts"]).max()
    start = (end - pd.DateOffset(months=months)).normalize() + pd.Timedelta(days=1)
    out = dict(tables)
    for name, column in _DATE_COLUMNS.items():
        if name in tables:
            stamps = pd.to_datetime(tables[name][column])
            out[name] = tables[name][stamps >= start]
    return out


def one_channel(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Only the sales channel with the most revenue (marketing channels kept)."""
    orders = tables["orders"]
    revenue = (orders["units"] * orders["unit_price"]).groupby(orders["channel"]).sum().sort_index()
    keep = revenue.sort_values(ascending=False, kind="stable").index[0]
    ch = tables["channels"]
    out = dict(tables, orders=orders[orders["channel"] == keep],
               channels=ch[(ch["kind"] == "marketing") | (ch["channel"] == keep)])
    if "events" in tables:
        ev = tables["events"]
        out["events"] = ev[ev["channel"].isna() | (ev["channel"] == keep)]
    return out


def store_name(channel: str, k: int) -> str:
    """Name of store ``k`` of ``channel``; every third one in Chinese (``门店_07``)."""
    return f"门店_{channel}_{k:02d}" if k % 3 == 2 else f"{channel}_{k:02d}"


def split_channels(tables: dict[str, pd.DataFrame], n: int) -> dict[str, pd.DataFrame]:
    """Split the sales channels into ``n`` stores in all (each channel into about n / channels).

    An order goes to store ``crc32(order_id) % k`` of its channel, so every line of one order
    stays together. A channel's promotion events move to its first store.
    """
    ch = tables["channels"]
    sales = ch[ch["kind"] == "sales"].sort_values("channel")
    if n <= len(sales):
        raise InputError(f"`channels` must be 1 or more than the {len(sales)} sales channels, but got {n}")
    per = {c: n // len(sales) + (i < n % len(sales)) for i, c in enumerate(sales["channel"])}
    orders = tables["orders"]
    ids = orders["order_id"].astype(str)
    bucket = ids.map(lambda s: zlib.crc32(s.encode("utf-8")))
    k = bucket % orders["channel"].map(per)
    new = [store_name(c, int(i)) for c, i in zip(orders["channel"], k)]
    stores = pd.concat([sales.loc[sales["channel"] == c].assign(channel=store_name(c, i), name=None)
                        for c in sales["channel"] for i in range(per[c])], ignore_index=True)
    out = dict(tables, orders=orders.assign(channel=new),
               channels=pd.concat([stores, ch[ch["kind"] != "sales"]], ignore_index=True))
    if "events" in tables:
        ev = tables["events"]
        first = {c: store_name(c, 0) for c in per}
        out["events"] = ev.assign(channel=ev["channel"].map(first).where(ev["channel"].notna(), None))
    return out
