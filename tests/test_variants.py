"""Sample variants: the shapes of real shops' data, cut from the sample retailer."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.data import load_dataset
from channelkit.data.sample.variants import make_variant, read_folder, store_name
from channelkit.errors import InputError


def test_tables_dropped_and_history_cut(sample_dir, tmp_path):
    out = make_variant(sample_dir, tmp_path / "v", drop=("marketing", "events"), months=10, skus=3)
    ds = load_dataset(out)  # still meets the contract
    assert ds.marketing is None and ds.events is None and not (out / "truth.json").exists()
    assert ds.products["sku"].nunique() == 3 and set(ds.orders["sku"]) == set(ds.products["sku"])
    raw = read_folder(sample_dir)
    last = pd.to_datetime(raw["orders"]["order_ts"]).max()
    assert ds.orders["order_ts"].min() >= (last - pd.DateOffset(months=10)).normalize()
    assert ds.orders["order_ts"].max().normalize() == last.normalize()
    top = raw["orders"].groupby("sku")["units"].sum().nlargest(3).index
    assert set(ds.products["sku"]) == set(top)


def test_one_and_thirty_channels_keep_every_order(sample_dir, tmp_path):
    raw = read_folder(sample_dir)["orders"]
    top2 = raw.groupby("sku")["units"].sum().nlargest(2).index
    source = raw[raw["sku"].isin(top2)]
    many = load_dataset(make_variant(sample_dir, tmp_path / "many", channels=30, skus=2)).orders
    assert many["channel"].nunique() == 30 and len(many) == len(source)
    assert many.groupby("order_id")["channel"].nunique().max() == 1  # an order's lines stay in one store
    both = many[["order_id", "sku", "channel"]].merge(source[["order_id", "sku", "channel"]], on=["order_id", "sku"],
                                                      suffixes=("", "_source"))
    assert len(both) == len(source)
    assert all(new.startswith((old + "_", "门店_" + old + "_")) for new, old in zip(both["channel"], both["channel_source"]))
    assert store_name("tmall", 2) == "门店_tmall_02" and store_name("tmall", 3) == "tmall_03"
    one = load_dataset(make_variant(sample_dir, tmp_path / "one", channels=1, skus=2)).orders
    revenue = (source["units"] * source["unit_price"]).groupby(source["channel"]).sum()
    assert set(one["channel"]) == {revenue.idxmax()} and len(one) == (source["channel"] == revenue.idxmax()).sum()


def test_bad_options_are_named(sample_dir, tmp_path):
    with pytest.raises(InputError, match="`drop` may name only optional tables"):
        make_variant(sample_dir, tmp_path / "x", drop=("orders",))
    with pytest.raises(InputError, match="`months` must be a positive whole number or None, but got 0"):
        make_variant(sample_dir, tmp_path / "x", months=0)
    with pytest.raises(InputError, match="`channels` must be 1 or more than the 5 sales channels, but got 3"):
        make_variant(sample_dir, tmp_path / "x", channels=3)


def test_a_sales_panel_instead_of_orders(sample_dir, tmp_path):
    ds = load_dataset(make_variant(sample_dir, tmp_path / "panel", skus=2, months=2, panel_only=True, anonymous=True))
    assert ds.orders is None and ds.sales is not None
    raw = read_folder(sample_dir)["orders"]
    top2 = raw.groupby("sku")["units"].sum().nlargest(2).index
    last = pd.to_datetime(raw.loc[raw["sku"].isin(top2), "order_ts"]).max()
    kept = raw[raw["sku"].isin(top2) & (pd.to_datetime(raw["order_ts"]) >= (last - pd.DateOffset(months=2)).normalize()
                                        + pd.Timedelta(days=1)) & (raw["status"] == "paid")]
    assert ds.sales["units"].sum() == kept["units"].sum()
    assert ds.sales["revenue"].sum() == pytest.approx((kept["units"] * kept["unit_price"]).sum())
