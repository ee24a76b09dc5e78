"""Validation: every problem of a dataset at once, each naming file, column, rule and examples."""
from __future__ import annotations

import re

import pandas as pd
import pandera.errors
import pytest

from channelkit.cli import main
from channelkit.data import load_dataset, validate_dataset
from channelkit.data.schemas import table_schema
from channelkit.errors import DataValidationError
from minimal_data import CSV, replace_line, write_dataset


def _error(folder) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load_dataset(folder)
    return info.value


def test_minimal_dataset_is_valid(tmp_path):
    assert validate_dataset(write_dataset(tmp_path)) == []


def test_missing_required_file_names_the_file(tmp_path):
    folder = write_dataset(tmp_path, drop=("products",))
    with pytest.raises(DataValidationError, match=r"products \(products\.csv\): required file is missing"):
        load_dataset(folder)


def test_missing_orders_mentions_the_panel_alternative(tmp_path):
    folder = write_dataset(tmp_path, drop=("orders",))
    with pytest.raises(DataValidationError, match=r"orders.*required file is missing.*sales\.csv"):
        load_dataset(folder)


def test_missing_column_names_column_and_headers(tmp_path):
    orders = CSV["orders"].replace("units,", "qty,", 1)
    err = _error(write_dataset(tmp_path, orders=orders))
    assert re.search(r"orders \(orders\.csv\), column `units`: required column is missing", str(err))
    assert "'qty'" in str(err)  # the headers the file has, so the user sees the misspelling


def test_wrong_type_shows_the_offending_value_and_line(tmp_path):
    orders = replace_line("orders", "C3,app,3,20", "C3,app,three,20")
    err = _error(write_dataset(tmp_path, orders=orders))
    (problem,) = err.problems
    assert (problem.table, problem.column, problem.count) == ("orders", "units", 1)
    assert problem.examples["line"].tolist() == [6]
    assert problem.examples["units"].tolist() == ["three"]
    assert re.search(r"column `units`: must be a number \[1 row\]\n.*\n\s+6\s+A4\s+SKU-1\s+three", str(err))


def test_fractional_units_are_not_whole_numbers(tmp_path):
    orders = replace_line("orders", "C3,app,3,20", "C3,app,2.5,20")
    with pytest.raises(DataValidationError, match=r"column `units`: must be a whole number \[1 row\]"):
        load_dataset(write_dataset(tmp_path, orders=orders))


def test_unparseable_date_names_column_and_value(tmp_path):
    orders = replace_line("orders", "2025-06-12 09:00:00", "2025-02-30 09:00:00")
    err = _error(write_dataset(tmp_path, orders=orders))
    assert re.search(r"column `order_ts`: is not a date/time .*\[1 row\]", str(err))
    assert "2025-02-30 09:00:00" in str(err)


def test_negative_units_counts_all_rows_and_shows_five(tmp_path):
    lines = "".join(f"N{i},SKU-1,2025-06-13 10:00:00,C9,tmall,-{i},20,20,paid\n" for i in range(1, 8))
    err = _error(write_dataset(tmp_path, orders=CSV["orders"] + lines))
    (problem,) = err.problems
    assert (problem.column, problem.rule, problem.count) == ("units", "must be >= 1", 7)
    assert len(problem.examples) == 5
    assert problem.examples["line"].tolist() == [8, 9, 10, 11, 12]
    assert "column `units`: must be >= 1 [7 rows]" in str(err)


def test_duplicate_order_lines_show_both_rows(tmp_path):
    orders = CSV["orders"] + "A4,SKU-1,2025-06-12 09:05:00,C3,app,1,20,20,paid\n"
    err = _error(write_dataset(tmp_path, orders=orders))
    (problem,) = err.problems
    assert problem.count == 2
    assert problem.examples["line"].tolist() == [6, 8]
    assert problem.examples["order_id"].tolist() == ["A4", "A4"]
    assert "orders (orders.csv), column `order_id, sku`: duplicate key (order_id, sku)" in str(err)


def test_unknown_channel_and_sku_are_named(tmp_path):
    orders = CSV["orders"] + ("B1,SKU-9,2025-06-13 10:00:00,C9,tmall,1,20,20,paid\n"
                              "B2,SKU-1,2025-06-13 11:00:00,C9,douyin,1,20,20,paid\n"
                              "B3,SKU-1,2025-06-13 12:00:00,C9,search,1,20,20,paid\n")
    err = _error(write_dataset(tmp_path, orders=orders))
    text = str(err)
    assert re.search(r"column `sku`: values not found among the products \(products\.csv\): \['SKU-9'\] \[1 row\]", text)
    # `search` exists, but as a marketing channel: orders need a sales channel.
    assert re.search(r"column `channel`: values not found among the sales channels in channels "
                     r"\(channels\.csv\): \['douyin', 'search'\] \[2 rows\]", text)


def test_marketing_channel_must_be_a_marketing_channel(tmp_path):
    marketing = CSV["marketing"] + "2025-06-12,tmall,5,100,1,\n"
    with pytest.raises(DataValidationError, match=r"marketing \(marketing\.csv\), column `channel`: values not found "
                                                  r"among the marketing channels in channels.*\['tmall'\]"):
        load_dataset(write_dataset(tmp_path, marketing=marketing))


def test_empty_table_is_reported(tmp_path):
    folder = write_dataset(tmp_path, inventory="sku,on_hand,lead_time_days\n")
    with pytest.raises(DataValidationError, match=r"inventory \(inventory\.csv\): has no data rows"):
        load_dataset(folder)


def test_mis_encoded_csv_names_file_byte_and_line(tmp_path):
    folder = write_dataset(tmp_path)
    (folder / "products.csv").write_bytes(
        "sku,name,category,unit_cost,list_price\nSKU-1,Café au lait,coffee,10,20\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"products \(products\.csv\): is neither UTF-8 nor GBK/GB18030 "
                                                  r"text: undecodable bytes b'\\xe9 au lai' at byte 48 \(line 2\)"):
        load_dataset(folder)


def test_mixed_time_zones_name_column_and_show_both_kinds(tmp_path):
    orders = replace_line("orders", "2025-06-12 09:00:00", "2025-06-12T01:00:00+00:00")
    err = _error(write_dataset(tmp_path, orders=orders))
    (problem,) = err.problems
    assert problem.column == "order_ts"
    assert "orders (orders.csv), column `order_ts`: mixes times with a time zone (1 row) and without (5 rows)" in str(err)
    assert "2025-06-12T01:00:00+00:00" in problem.examples["order_ts"].tolist()
    assert "2025-06-11 10:00:00" in problem.examples["order_ts"].tolist()


def test_all_problems_of_all_tables_at_once(tmp_path):
    orders = replace_line("orders", "tmall,5,15,20,cancelled", "tmall,5,15,20,shipped")
    products = CSV["products"] + "SKU-3,Oolong,,Hillside,-1,30\n"
    marketing = replace_line("marketing", "10000,300", "100,300")
    err = _error(write_dataset(tmp_path, orders=orders, products=products, marketing=marketing))
    found = {(p.table, p.column, p.rule.split(";")[0]) for p in err.problems}
    assert found == {
        ("orders", "status", "must be one of paid, cancelled, refunded"),
        ("products", "category", "must not be empty"),
        ("products", "unit_cost", "must be >= 0"),
        ("marketing", "clicks, impressions", "clicks must not exceed impressions"),
    }
    assert str(err).startswith(f"{tmp_path}: 4 data problems in products, orders, marketing; nothing was loaded.")
    assert "must be one of paid, cancelled, refunded; found ['shipped'] (recode them under `values: status:`" in str(err)


def test_several_files_for_one_table(tmp_path):
    folder = write_dataset(tmp_path)
    pd.read_csv(folder / "inventory.csv").to_parquet(folder / "inventory.parquet")
    with pytest.raises(DataValidationError, match=r"inventory \(inventory\.csv, inventory\.parquet\): several files"):
        load_dataset(folder)


def test_validate_dataset_rechecks_an_edited_dataset(tmp_path):
    dataset = load_dataset(write_dataset(tmp_path))
    dataset.orders.loc[0, "units"] = 0
    (problem,) = validate_dataset(dataset)
    assert (problem.table, problem.column, problem.rule, problem.count) == ("orders", "units", "must be >= 1", 1)


def test_pandera_schema_is_usable_on_its_own():
    frame = pd.DataFrame({"sku": ["S1", "S1"], "category": ["tea", "tea"], "unit_cost": [1.0, 2.0],
                          "list_price": [-1.0, 3.0]})
    with pytest.raises(pandera.errors.SchemaErrors, match="must be >= 0"):
        table_schema("products").validate(frame, lazy=True)


def test_cli_validate_prints_problems_and_exits_1(tmp_path, capsys):
    orders = replace_line("orders", "C3,app,3,20", "C3,app,-3,20")
    code = main(["validate", str(write_dataset(tmp_path, orders=orders))])
    out = capsys.readouterr().out
    assert code == 1
    assert "orders (orders.csv), column `units`: must be >= 1 [1 row]" in out


def test_cli_validate_prints_summary_and_exits_0(tmp_path, capsys):
    code = main(["validate", str(write_dataset(tmp_path))])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"orders\s+6 rows", out)
    assert "sales from 2025-06-11 to 2025-06-12" in out
    assert "sales channels (2): tmall, app" in out
    assert "SKUs: 2 in 2 categories" in out


def test_cli_validate_missing_folder_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_broken_csv_row_is_reported_with_its_line(tmp_path):
    products = CSV["products"] + "SKU-3,Oolong,tea,Hillside,12,30,extra\n"
    with pytest.raises(DataValidationError, match=r"products \(products\.csv\): is not a readable CSV file: .*"
                                                  r"Expected 6 fields in line 4, saw 7"):
        load_dataset(write_dataset(tmp_path, products=products))


def test_infinite_and_absurd_numbers_are_refused_with_configurable_limits(tmp_path, capsys):
    """`inf` and 1e300 prices would make revenue inf: refused, with the line; limits per column or table.column."""
    orders = replace_line("orders", "C3,app,3,20,20", "C3,app,3,inf,20")
    orders = orders.replace("C1,app,4,8,10", "C1,app,4,1e300,10")
    err = _error(write_dataset(tmp_path / "a", orders=orders))
    rules = {(p.column, p.rule.split(",")[0].split(" (")[0]): p for p in err.problems}
    infinite = rules[("unit_price", "must be a finite number")]
    assert infinite.count == 1 and infinite.examples["line"].tolist() == [6]
    huge = rules[("unit_price", "has absurd values beyond ±1e+12")]
    assert huge.count == 1 and huge.examples["line"].tolist() == [7]
    folder = write_dataset(tmp_path / "b", orders=replace_line("orders", "C3,app,3,20,20", "C3,app,3,19,20"))
    assert validate_dataset(folder) == []
    assert main(["validate", str(folder), "--limit", "orders.unit_price=18.5"]) == 1
    out = capsys.readouterr().out
    assert "column `unit_price`: has absurd values beyond ±18.5" in out and "[2 rows]" in out  # 19 and 20
    assert main(["validate", str(folder), "--limit", "unit_price=20"]) == 0
    capsys.readouterr()
    assert main(["validate", str(folder), "--limit", "nonsense=3"]) == 2
    assert "limit nonsense='3': the key must name a contract column" in capsys.readouterr().err


def test_headers_that_match_no_contract_column_ask_for_a_mapping(tmp_path):
    """A GBK export with Chinese headers and no mapping: not 'no data rows' but 'a mapping is needed'."""
    folder = write_dataset(tmp_path)
    (folder / "orders.csv").write_bytes("订单编号,商家编码,付款时间,购买数量\nA1,SKU-1,2025-06-11 10:00:00,2\n"
                                        .encode("gb18030"))
    err = _error(folder)
    (problem,) = [p for p in err.problems if p.table == "orders"]
    assert "none of the file's headers ['订单编号', '商家编码', '付款时间', '购买数量'] is a column of orders" in problem.rule
    assert "a column mapping is needed" in problem.rule
    assert "expected columns: order_id, sku, order_ts, customer_id, channel, units" in problem.rule
    assert "no data rows" not in str(err)
