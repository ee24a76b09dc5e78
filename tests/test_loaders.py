"""Loaders: formats, encodings, the column-mapping file, derived columns and the Dataset object."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from channelkit.data import Dataset, daily_sales, detect_encoding, load_dataset, read_mapping
from channelkit.errors import ConfigError, DataValidationError, MissingTableError
from minimal_data import CSV, replace_line, write_dataset

TMALL_EXPORT = (
    "订单编号,付款时间,买家会员名,买家ID,商家编码,购买数量,实付金额,订单状态\n"
    "TM0001,2025/6/11 20:14:05,小王,B01,0001,2,\"￥1,234.00\",交易成功\n"
    "TM0002,2025/6/11 21:00:00,小李,B02,0002,1,9.50元,退款成功\n"
    "TM0003,2025/6/12 08:30:00,小王,B01,0001,1,600,交易关闭\n"
)
TMALL_MAPPING = """\
orders:
  file: 天猫订单*.csv
  columns:
    订单编号: order_id
    付款时间: order_ts
    买家ID: customer_id
    实付金额: amount
    商家编码: sku
    购买数量: units
    订单状态: status
  values:
    status: {交易成功: paid, 交易关闭: cancelled, 退款成功: refunded}
  constants:
    channel: tmall
products:
  商家编码: sku
  类目: category
  成本价: unit_cost
  一口价: list_price
"""


def _tmall_folder(tmp_path):
    folder = write_dataset(tmp_path, drop=("orders", "products", "touchpoints", "events", "inventory"))
    (folder / "天猫订单_2025-06.csv").write_bytes(TMALL_EXPORT.encode("gbk"))
    (folder / "products.csv").write_bytes("商家编码,类目,成本价,一口价\n0001,茶叶,300,700\n0002,零食,3,10\n".encode("gbk"))
    return folder


def test_gbk_export_with_chinese_headers_and_mapping_file(tmp_path):
    folder = _tmall_folder(tmp_path)
    (folder / "columns.yaml").write_text(TMALL_MAPPING, encoding="utf-8")
    assert detect_encoding(folder / "天猫订单_2025-06.csv") == "gb18030"
    ds = load_dataset(folder)
    orders = ds.orders
    assert orders["order_id"].tolist() == ["TM0001", "TM0002", "TM0003"]
    assert orders["sku"].tolist() == ["0001", "0002", "0001"]  # leading zeros kept
    assert orders["order_ts"].tolist() == [pd.Timestamp("2025-06-11 20:14:05"), pd.Timestamp("2025-06-11 21:00:00"),
                                           pd.Timestamp("2025-06-12 08:30:00")]
    assert orders["status"].tolist() == ["paid", "refunded", "cancelled"]
    assert orders["channel"].tolist() == ["tmall"] * 3
    assert orders["unit_price"].tolist() == [617.0, 9.5, 600.0]  # 1234 / 2, ¥ and separators removed
    assert orders["list_price"].tolist() == [700.0, 10.0, 700.0]  # from products.list_price
    assert orders["discount"].round(6).tolist() == [round(1 - 617 / 700, 6), 0.05, round(1 - 600 / 700, 6)]
    assert ds.products["category"].tolist() == ["茶叶", "零食"]
    # The buyer's nickname is personal data and not in the contract: not loaded, but reported.
    assert "买家会员名" in ds.dropped_columns["orders"]
    assert "买家会员名" not in orders.columns
    assert ds.files["orders"] == ("天猫订单_2025-06.csv",)


def test_mapping_passed_explicitly(tmp_path):
    folder = _tmall_folder(tmp_path)
    mapping = tmp_path / "elsewhere.yaml"
    mapping.write_text(TMALL_MAPPING, encoding="utf-8")
    assert len(load_dataset(folder, mapping=mapping).orders) == 3


def test_mapping_errors_name_the_entry(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("orders:\n  订单编号: order_number\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`orders\.订单编号` maps to `order_number`, which is not a column of orders"):
        read_mapping(bad)
    bad.write_text("order:\n  a: b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown table `order`"):
        read_mapping(bad)
    bad.write_text("orders:\n  a: sku\n  b: sku\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"maps several headers onto sku"):
        read_mapping(bad)


def test_example_mapping_in_docs_parses():
    mapping = read_mapping(Path(__file__).resolve().parents[1] / "docs" / "examples" / "columns.yaml")
    assert mapping["orders"].columns["实付金额"] == "amount"
    assert mapping["orders"].values["status"]["退款成功"] == "refunded"
    assert mapping["orders"].constants == {"channel": "tmall"}


def test_utf8_with_bom_loads(tmp_path):
    folder = write_dataset(tmp_path, encoding="utf-8-sig")
    assert (folder / "channels.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    ds = load_dataset(folder)
    assert ds.channels["channel"].tolist() == ["tmall", "app", "search", "kol"]


def test_xlsx_and_parquet_load_like_csv(tmp_path):
    reference = load_dataset(write_dataset(tmp_path / "csv"))
    folder = write_dataset(tmp_path / "mixed", drop=("orders", "products"))
    pd.read_csv(tmp_path / "csv" / "orders.csv").to_excel(folder / "orders.xlsx", index=False)
    pd.read_csv(tmp_path / "csv" / "products.csv").to_parquet(folder / "products.parquet")
    ds = load_dataset(folder)
    pd.testing.assert_frame_equal(ds.orders, reference.orders)
    pd.testing.assert_frame_equal(ds.products, reference.products)
    assert ds.files["orders"] == ("orders.xlsx",)


def test_semicolon_separated_and_amount_formats(tmp_path):
    products = "sku;category;unit_cost;list_price\nSKU-1;tea;¥10;\"1,020.00 元\"\nSKU-2;snacks;RMB 4;10\n"
    ds = load_dataset(write_dataset(tmp_path, products=products))
    assert ds.products["list_price"].tolist() == [1020.0, 10.0]
    assert ds.products["unit_cost"].tolist() == [10.0, 4.0]


def test_zone_aware_times_become_local_naive(tmp_path):
    touchpoints = ("customer_id,ts,channel\n"
                   "C1,2025-06-10T12:00:00Z,kol\n"
                   "C1,2025-06-11 01:50:00+00:00,search\n"
                   "C3,2025-06-12 08:00:00+08:00,search\n")
    ds = load_dataset(write_dataset(tmp_path, touchpoints=touchpoints))
    assert ds.touchpoints["ts"].tolist() == [pd.Timestamp("2025-06-10 20:00:00"), pd.Timestamp("2025-06-11 09:50:00"),
                                             pd.Timestamp("2025-06-12 08:00:00")]
    assert ds.touchpoints["ts"].dt.tz is None


def test_optional_columns_get_defaults_and_derived_values(tmp_path):
    orders = "\n".join(line.rsplit(",", 1)[0] for line in CSV["orders"].splitlines()[1:]) + "\n"
    header = "order_id,sku,order_ts,customer_id,channel,units,unit_price,list_price\n"
    ds = load_dataset(write_dataset(tmp_path, orders=header + orders))
    assert set(ds.orders["status"]) == {"paid"}
    assert ds.orders["discount"].tolist() == pytest.approx([0.1, 0.0, 0.0, 0.25, 0.0, 0.2])
    assert ds.inventory["location"].tolist() == ["all", "all"]
    assert list(ds.orders.columns) == ["order_id", "sku", "order_ts", "customer_id", "channel", "units",
                                       "unit_price", "list_price", "discount", "status"]
    assert ds.orders["units"].dtype == "int64" and ds.marketing["sessions"].dtype == "Int64"
    assert ds.marketing["sessions"].isna().tolist() == [False, True, False]


def test_sales_panel_only_dataset_loads_and_daily_sales_returns_it(tmp_path):
    sales = ("date,sku,channel,units,revenue,price,list_price\n"
             "2025-06-11,SKU-1,tmall,3,54,18,20\n"
             "2025-06-12,SKU-1,tmall,2,40,20,20\n"
             "2025-06-16,SKU-2,app,4,32,8,10\n")
    ds = load_dataset(write_dataset(tmp_path, drop=("orders", "touchpoints"), sales=sales))
    assert ds.orders is None
    panel = daily_sales(ds)
    assert panel["units"].tolist() == [3.0, 2.0, 4.0]
    assert panel["discount"].tolist() == pytest.approx([0.1, 0.0, 0.2])
    assert panel["promo"].tolist() == [True, False, True]
    weekly = daily_sales(ds, freq="W")
    assert weekly["date"].tolist() == [pd.Timestamp("2025-06-09"), pd.Timestamp("2025-06-16")]
    assert weekly["units"].tolist() == [5.0, 4.0]
    assert weekly["price"].tolist() == [94 / 5, 8.0]
    with pytest.raises(MissingTableError, match=r"customer analysis needs the `orders` table .*add orders\.csv"):
        ds.require("orders", analysis="customer analysis")


def test_require_names_the_missing_file(tmp_path):
    ds = load_dataset(write_dataset(tmp_path, drop=("touchpoints",)))
    with pytest.raises(MissingTableError, match=r"multi-touch attribution .*needs the `touchpoints` table.*"
                                                r"add touchpoints\.csv \(or \.parquet / \.xlsx\) in .* with the "
                                                r"columns customer_id, ts, channel"):
        ds.require("touchpoints")
    assert ds.require("orders") is ds.orders


def test_summary_counts(tmp_path):
    ds = load_dataset(write_dataset(tmp_path, drop=("events",)))
    summary = ds.summary()
    assert summary.rows == {"channels": 4, "products": 2, "orders": 6, "marketing": 3, "touchpoints": 3,
                            "inventory": 2}
    assert (summary.start, summary.end) == (pd.Timestamp("2025-06-11"), pd.Timestamp("2025-06-12"))
    assert summary.sales_channels == ("tmall", "app")
    assert summary.marketing_channels == ("search", "kol")
    assert (summary.skus, summary.categories) == (2, 2)
    frame = summary.to_frame()
    assert frame.loc[frame["table"] == "events", "present"].item() is False
    assert isinstance(ds, Dataset)


def test_whitespace_and_blank_cells(tmp_path):
    products = replace_line("products", "SKU-2,Rice crackers", " SKU-2 ,  ")
    ds = load_dataset(write_dataset(tmp_path, products=products))
    assert ds.products["sku"].tolist() == ["SKU-1", "SKU-2"]
    assert ds.products["name"].isna().tolist() == [False, True]


def test_several_monthly_files_stack_and_problems_name_the_file(tmp_path):
    folder = write_dataset(tmp_path, drop=("orders",))
    header, *lines = CSV["orders"].splitlines(keepends=True)
    (folder / "orders_2025-05.csv").write_text(header + "".join(lines[:3]), encoding="utf-8")
    (folder / "orders_2025-06.csv").write_text(header + "".join(lines[3:]).replace("C3,app,3,", "C3,app,0,"),
                                               encoding="utf-8")
    (folder / "columns.yaml").write_text("orders:\n  file: orders_*.csv\n  columns: {}\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"orders \(orders_2025-05\.csv, orders_2025-06\.csv\), column `units`: "
                                        r"must be >= 1 \[1 row\]\n\s+line order_id\s+sku\s+units\n\s+orders_2025-06\.csv:3"):
        load_dataset(folder)
    (folder / "orders_2025-06.csv").write_text(header + "".join(lines[3:]), encoding="utf-8")
    ds = load_dataset(folder)
    assert ds.orders["order_id"].tolist() == ["A1", "A1", "A2", "A3", "A4", "A5"]
    assert ds.files["orders"] == ("orders_2025-05.csv", "orders_2025-06.csv")


def test_parquet_with_zone_aware_timestamps(tmp_path):
    folder = write_dataset(tmp_path, drop=("touchpoints",))
    pd.DataFrame({
        "customer_id": ["C1", "C2"],
        "ts": pd.to_datetime(["2025-06-10 12:00:00", "2025-06-10 16:30:00"]).tz_localize("UTC"),
        "channel": ["kol", "search"],
    }).to_parquet(folder / "touchpoints.parquet")
    ds = load_dataset(folder)
    assert ds.touchpoints["ts"].tolist() == [pd.Timestamp("2025-06-10 20:00:00"), pd.Timestamp("2025-06-11 00:30:00")]
