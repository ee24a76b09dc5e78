"""Compact types for orders and touchpoints, array-wise value checks and the code-based sales panel.

References: pandas itself (``duplicated(keep=False)``, a plain ``groupby`` over object text) and
pandera (the schemas of ``channelkit.data.schemas``), which the vectorised checks must agree with.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.errors
import pytest

from channelkit.data import load_dataset
from channelkit.data.checks import duplicate_rows, table_failures
from channelkit.data.dtypes import TEXT, as_label, set_text_dtypes
from channelkit.data.panel import PANEL_COLUMNS, _finish, panel_from_orders
from channelkit.data.schemas import table_schema
from minimal_data import CSV, write_dataset


def test_orders_and_touchpoints_load_compact_other_tables_stay_object(tmp_path):
    ds = load_dataset(write_dataset(tmp_path), compact_labels=True)
    orders = ds.orders
    assert orders["order_id"].dtype == TEXT and orders["customer_id"].dtype == TEXT
    assert orders["customer_id"].tolist()[:3] == ["C1", "C1", "C2"] and pd.isna(orders["customer_id"][3])
    for column, labels in {"sku": ["SKU-1", "SKU-2"], "channel": ["app", "tmall"],
                           "status": ["cancelled", "paid", "refunded"]}.items():
        assert isinstance(orders[column].dtype, pd.CategoricalDtype)
        assert orders[column].cat.categories.tolist() == labels  # sorted, only the values present
    assert orders["status"].tolist() == ["paid", "paid", "refunded", "cancelled", "paid", "paid"]
    assert ds.touchpoints["customer_id"].dtype == TEXT
    assert ds.touchpoints["channel"].cat.categories.tolist() == ["kol", "search"]
    for frame in (ds.channels, ds.products, ds.events, ds.inventory, ds.marketing):
        assert all(frame[c].dtype == object for c in frame.columns if c in ("sku", "channel", "kind", "event"))


def test_labels_are_object_text_by_default(tmp_path):
    orders = load_dataset(write_dataset(tmp_path)).orders
    assert orders["order_id"].dtype == TEXT
    assert all(orders[c].dtype == object for c in ("sku", "channel", "status"))
    assert orders["status"].tolist() == ["paid", "paid", "refunded", "cancelled", "paid", "paid"]
    # Series.map gives floats, as engines written for object text expect.
    assert orders["sku"].map({"SKU-1": 1.5, "SKU-2": 2.0}).dtype == "float64"


@pytest.mark.parametrize("compact_labels", [False, True])
def test_parquet_with_padded_and_blank_cells_loads_like_csv(tmp_path, compact_labels):
    reference = load_dataset(write_dataset(tmp_path / "csv"), compact_labels=compact_labels)
    folder = write_dataset(tmp_path / "pq", drop=("orders", "touchpoints"))
    orders = pd.read_csv(tmp_path / "csv" / "orders.csv", dtype=str, keep_default_na=False)
    orders["sku"] = orders["sku"].radd(" ")  # " SKU-1": stripped to the same label
    orders["status"] = orders["status"].add("  ")
    orders["order_id"] = orders["order_id"].add(" ")
    orders[["units", "unit_price", "list_price"]] = orders[["units", "unit_price", "list_price"]].astype(float)
    orders["order_ts"] = pd.to_datetime(orders["order_ts"])
    orders.to_parquet(folder / "orders.parquet")  # customer_id of A3 is "": blank means missing
    pd.read_csv(tmp_path / "csv" / "touchpoints.csv").to_parquet(folder / "touchpoints.parquet")
    ds = load_dataset(folder, compact_labels=compact_labels)
    pd.testing.assert_frame_equal(ds.orders, reference.orders)
    pd.testing.assert_frame_equal(ds.touchpoints, reference.touchpoints)
    ds.orders.loc[0, "units"] = 7  # columns read from Arrow memory are writable, like any frame
    assert ds.orders["units"].iloc[0] == 7


def test_labels_that_differ_only_by_spaces_merge_into_one_category(tmp_path):
    orders = CSV["orders"].replace("A2,SKU-1,2025-06-11 12:30:00,C2,tmall", "A2, SKU-1 ,2025-06-11 12:30:00,C2, tmall")
    ds = load_dataset(write_dataset(tmp_path, orders=orders), compact_labels=True)
    assert ds.orders["sku"].cat.categories.tolist() == ["SKU-1", "SKU-2"]
    assert ds.orders["sku"].tolist() == ["SKU-1", "SKU-2", "SKU-1", "SKU-1", "SKU-1", "SKU-2"]
    assert ds.orders["channel"].value_counts().to_dict() == {"tmall": 4, "app": 2}


def test_category_and_arrow_columns_of_other_tables_become_object():
    frame = pd.DataFrame({"sku": pd.Categorical(["b", "a"]), "category": pd.Series(["t", None], dtype=TEXT)})
    out = set_text_dtypes("products", frame)
    assert out["sku"].dtype == object and out["sku"].tolist() == ["b", "a"]
    assert out["category"].dtype == object and out["category"].iloc[0] == "t" and pd.isna(out["category"].iloc[1])
    assert as_label(pd.Series(["b", None, "a", "b"])).cat.categories.tolist() == ["a", "b"]


def _random_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n // 3, n).astype(str).astype(object)
    ids[rng.random(n) < 0.05] = None
    return pd.DataFrame({
        "customer_id": pd.Series(ids, dtype=TEXT),
        "ts": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="h"),
        "channel": pd.Categorical(rng.choice(["kol", "search", None], n)),
    })


@pytest.mark.parametrize("seed", [1, 2])
def test_duplicate_rows_agree_with_pandas_duplicated(seed):
    frame = _random_frame(3000, seed)
    expected = frame.astype({"customer_id": object, "channel": object}).duplicated(
        ["customer_id", "ts", "channel"], keep=False).to_numpy()
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(duplicate_rows(frame, ["customer_id", "ts", "channel"]), expected)


def test_value_checks_agree_with_the_pandera_schema():
    frame = pd.DataFrame({
        "order_id": pd.Series(["A1", "A1", None, "A3", "A4"], dtype=TEXT),
        "sku": pd.Categorical(["S1", "S1", "S1", None, "S2"]),
        "order_ts": pd.to_datetime(["2025-06-11", "2025-06-11", None, "2025-06-12", "2025-06-12"]),
        "customer_id": pd.Series(["C1", None, "C2", "C3", "C4"], dtype=TEXT),
        "channel": pd.Categorical(["tmall"] * 5),
        "units": [1, 0, 2, -3, 1],
        "unit_price": [1.0, -1.0, 2.0, np.nan, 3.0],
        "list_price": [1.0, 1.0, 0.0, 2.0, 3.0],
        "discount": [0.0, 1.5, 0.0, 0.0, -0.1],
        "status": pd.Categorical(["paid", "shipped", "paid", "refunded", None]),
    })
    ours = {(f.rule, f.columns): set(np.flatnonzero(f.rows)) for f in table_failures("orders", frame)}
    with pytest.raises(pandera.errors.SchemaErrors) as info:
        table_schema("orders").validate(frame.astype({"sku": object, "channel": object, "status": object}), lazy=True)
    cases = info.value.failure_cases
    cases = cases[cases["index"].notna() & ~cases["check"].astype(str).str.startswith("dtype(")]
    theirs: dict[tuple, set] = {}
    for (check, column), group in cases.groupby([cases["check"].astype(str), "column"], dropna=False, sort=False):
        if check == "multiple_fields_uniqueness":
            theirs[("duplicate key", ("order_id", "sku"))] = set(group["index"].astype(int))
        else:
            theirs[(check, (column,))] = set(group["index"].astype(int))
    assert ours == theirs
    assert ours[("duplicate key", ("order_id", "sku"))] == {0, 1}
    assert ours[("must be one of paid, cancelled, refunded", ("status",))] == {1}


def _reference_panel(orders: pd.DataFrame, freq: str = "D") -> pd.DataFrame:
    """The panel as a plain pandas groupby over object text computes it (the earlier implementation)."""
    lines = orders[orders["status"].astype(object) != "cancelled"]
    paid = (lines["status"].astype(object) == "paid").to_numpy()
    units = lines["units"].to_numpy(dtype="float64")
    value = units * lines["unit_price"].to_numpy(dtype="float64")
    days = lines["order_ts"].dt.normalize()
    if freq == "W":
        days = days - pd.to_timedelta(days.dt.weekday, unit="D")
    work = pd.DataFrame({
        "date": days.to_numpy(), "sku": lines["sku"].astype(object).to_numpy(),
        "channel": lines["channel"].astype(object).to_numpy(), "units": units * paid, "revenue": value * paid,
        "list_value": units * lines["list_price"].to_numpy(dtype="float64") * paid,
        "returned_list_value": units * lines["list_price"].to_numpy(dtype="float64") * ~paid,
        "returned_units": units * ~paid, "returned_revenue": value * ~paid, "orders": paid.astype("int64"),
    })
    cells = work.groupby(["date", "sku", "channel"], sort=True).sum().reset_index()
    return _finish(cells, events=None, freq=freq, promo_min_discount=0.01)


@pytest.fixture(scope="module")
def compact_sample(sample_dir):
    return load_dataset(sample_dir, compact_labels=True)


@pytest.mark.parametrize("freq", ["D", "W"])
def test_panel_from_compact_orders_equals_a_plain_groupby(sample_dataset, compact_sample, freq):
    assert isinstance(compact_sample.orders["sku"].dtype, pd.CategoricalDtype)
    assert sample_dataset.orders["sku"].dtype == object
    reference = _reference_panel(sample_dataset.orders, freq)
    for orders in (compact_sample.orders, sample_dataset.orders):
        panel = panel_from_orders(orders, freq=freq)
        assert list(panel.columns) == PANEL_COLUMNS and panel["sku"].dtype == object
        pd.testing.assert_frame_equal(panel, reference, check_exact=True)


def test_panel_ignores_lines_without_sku_or_time_and_handles_no_lines():
    orders = pd.DataFrame({
        "order_id": ["A", "B", "C"], "sku": ["S2", None, "S1"],
        "order_ts": pd.to_datetime(["2025-01-02", "2025-01-02", None]),
        "customer_id": ["C", "C", "C"], "channel": ["tmall"] * 3, "units": [2, 1, 1], "unit_price": [5.0, 5.0, 5.0],
        "list_price": [5.0, 5.0, 5.0], "discount": [0.0] * 3, "status": ["paid"] * 3,
    })
    panel = panel_from_orders(orders)
    assert panel[["sku", "units", "revenue", "orders"]].values.tolist() == [["S2", 2.0, 10.0, 1]]
    assert panel_from_orders(orders.assign(status="cancelled")).empty


def test_period_days_floor_to_the_day_and_the_monday():
    from channelkit.data.panel import _period_days

    stamps = pd.Series(pd.to_datetime(["1969-12-31 23:00", "2025-06-15 23:59:59", "2025-06-16 00:00:01", None],
                                      format="ISO8601"))
    day = lambda text: (pd.Timestamp(text) - pd.Timestamp("1970-01-01")).days  # noqa: E731
    nat = np.datetime64("NaT", "D").astype(np.int64)
    assert _period_days(stamps, "D").tolist() == [-1, day("2025-06-15"), day("2025-06-16"), nat]
    # 1969-12-31 was a Wednesday (its Monday is 12-29); Sunday 2025-06-15 belongs to Monday 06-09.
    assert _period_days(stamps, "W").tolist() == [-3, day("2025-06-09"), day("2025-06-16"), nat]
