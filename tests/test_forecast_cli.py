"""`channelkit forecast` on a panel file: output columns, levels, clear errors."""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.cli import main


def test_forecast_command_writes_one_row_per_series_and_date(tmp_path, capsys):
    rng = np.random.default_rng(8)
    dates = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    panel = pd.concat([pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sku": s, "channel": "jd",
                                     "units": rng.poisson(20, 30)}) for s in ("0001", "0002")])
    src, out = tmp_path / "panel.csv", tmp_path / "fc.csv"
    panel.to_csv(src, index=False)
    code = main(["forecast", "--panel", str(src), "--horizon", "4", "--level", "50", "90", "--out", str(out),
                 "--models", "ets", "croston", "--n-jobs", "1"])
    assert code == 0
    fc = pd.read_csv(out, dtype={"sku": str})
    assert {"date", "sku", "channel", "forecast", "lo_50", "hi_50", "lo_90", "hi_90"} <= set(fc.columns)
    assert len(fc) == 8 and set(fc["sku"]) == {"0001", "0002"}  # SKU codes keep their leading zeros
    assert fc["date"].min() == "2024-07-29" and "wrote 8 rows (2 series)" in capsys.readouterr().out


def test_forecast_command_errors(tmp_path, capsys):
    assert main(["forecast", "--panel", str(tmp_path / "nope.csv"), "--horizon", "4", "--out", "x.csv"]) == 2
    assert "--panel: file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"date": ["2024-01-01"], "sku": ["A"], "units": [1]}).to_csv(bad, index=False)
    assert main(["forecast", "--panel", str(bad), "--horizon", "4", "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err  # the default columns' option is named, with the file's columns
    assert "--id-cols sku channel: no column(s) ['channel'] in bad.csv; its columns are ['date', 'sku', 'units']" in err


def test_forecast_command_on_the_sample_dataset(sample_dir, tmp_path):
    out = tmp_path / "sample_fc.parquet"
    code = main(["forecast", "--data", str(sample_dir), "--horizon", "3", "--level", "80", "--models",
                 "seasonal_naive", "--windows", "1", "--n-jobs", "1", "--out", str(out)])
    assert code == 0
    fc = pd.read_parquet(out)
    from channelkit.data import daily_sales, load_dataset

    panel = daily_sales(load_dataset(sample_dir))
    n_series = panel[["sku", "channel"]].drop_duplicates().shape[0]
    assert len(fc) == 3 * n_series
    assert fc["date"].min() == panel["date"].max() + pd.Timedelta(days=1)
    # Seasonal naive repeats the value of 7 days earlier (festival adjustment does not touch this window).
    last = panel[panel["date"] == fc["date"].min() - pd.Timedelta(days=7)].set_index(["sku", "channel"])["units"]
    first = fc[fc["date"] == fc["date"].min()].set_index(["sku", "channel"])["forecast"]
    both = first.to_frame().join(last.clip(lower=0), how="left").fillna(0.0)
    np.testing.assert_allclose(both["forecast"], both["units"], atol=1e-9)


def _small_panel(tmp_path):
    rng = np.random.default_rng(3)
    dates = pd.date_range("2025-01-06", periods=70)
    panel = pd.concat([pd.DataFrame({"date": dates, "sku": s, "channel": "tmall", "units": rng.poisson(5, 70)})
                       for s in ("A", "B")])
    src = tmp_path / "panel.parquet"
    panel.to_parquet(src, index=False)
    return src


def test_forecast_command_dask_backend_starts_its_own_cluster(tmp_path, capsys):
    # A scheduled job with --backend dask and no scheduler anywhere: a temporary local cluster runs the fits
    # and the numbers equal the local backend's.
    src = _small_panel(tmp_path)
    args = ["forecast", "--panel", str(src), "--horizon", "7", "--models", "ets", "croston", "--n-jobs", "1"]
    assert main([*args, "--out", str(tmp_path / "local.csv")]) == 0
    assert main([*args, "--backend", "dask", "--out", str(tmp_path / "dask.csv")]) == 0
    local, remote = pd.read_csv(tmp_path / "local.csv"), pd.read_csv(tmp_path / "dask.csv")
    assert local["model"].tolist() == remote["model"].tolist()
    np.testing.assert_allclose(local[["forecast", "lo_80", "hi_95"]], remote[["forecast", "lo_80", "hi_95"]], rtol=1e-5)


def test_forecast_command_scheduler_needs_dask_backend(tmp_path, capsys):
    src = _small_panel(tmp_path)
    out = tmp_path / "fc.csv"
    out.write_text("earlier output\n")
    code = main(["forecast", "--panel", str(src), "--horizon", "7", "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)])
    assert code == 2 and "--scheduler needs --backend dask" in capsys.readouterr().err
    assert out.read_text() == "earlier output\n"  # a failed run leaves the earlier file alone


def _m5_long(path, n_days: int = 70):
    """An M5-shaped long file (sales_train melted, with its calendar's dates): 2 items x 2 stores."""
    rng = np.random.default_rng(5)
    dates = pd.date_range("2016-03-14", periods=n_days)  # no festival of the calendar in or just after it
    rows = [pd.DataFrame({"id": f"{item}_{store}_evaluation", "item_id": item, "dept_id": "FOODS_3",
                          "cat_id": "FOODS", "store_id": store, "state_id": store[:2],
                          "d": [f"d_{1512 + i}" for i in range(n_days)], "date": dates.strftime("%Y-%m-%d"),
                          "sales": rng.poisson(lam, n_days)})
            for item, lam in (("FOODS_3_090", 30), ("FOODS_3_586", 12)) for store in ("CA_1", "TX_2")]
    pd.concat(rows).to_csv(path, index=False)
    return pd.concat(rows)


def test_forecast_command_on_an_m5_shaped_file_keeps_its_column_names(tmp_path, capsys):
    src, out = tmp_path / "m5_long.csv", tmp_path / "m5_fc.csv"
    long = _m5_long(src)
    code = main(["forecast", "--panel", str(src), "--date-col", "date", "--id-cols", "item_id", "store_id",
                 "--value-col", "sales", "--horizon", "7", "--models", "seasonal_naive", "--windows", "1",
                 "--level", "80", "--n-jobs", "1", "--out", str(out)])
    assert code == 0 and "wrote 28 rows (4 series)" in capsys.readouterr().out
    fc = pd.read_csv(out)
    assert list(fc.columns[:3]) == ["item_id", "store_id", "date"] and {"forecast", "lo_80", "hi_80"} <= set(fc.columns)
    assert "sku" not in fc.columns and "channel" not in fc.columns
    assert fc["date"].min() == "2016-05-23" and fc["date"].max() == "2016-05-29"
    # Seasonal naive: each future day repeats the same weekday of the last observed week.
    last_week = long[long["date"] >= "2016-05-16"]
    last_week = last_week.assign(date=(pd.to_datetime(last_week["date"]) + pd.Timedelta(days=7)).dt.strftime("%Y-%m-%d"))
    both = fc.merge(last_week, on=["item_id", "store_id", "date"], validate="one_to_one")
    assert len(both) == 28
    np.testing.assert_allclose(both["forecast"], both["sales"], atol=1e-9)


def test_forecast_command_with_one_id_column_from_parquet(tmp_path):
    src, out = tmp_path / "m5_long.parquet", tmp_path / "m5_fc.parquet"
    _m5_long(tmp_path / "m5_long.csv").assign(date=lambda d: pd.to_datetime(d["date"])).to_parquet(src, index=False)
    code = main(["forecast", "--panel", str(src), "--id-cols", "id", "--value-col", "sales", "--horizon", "7",
                 "--models", "seasonal_naive", "--windows", "1", "--n-jobs", "1", "--out", str(out)])
    assert code == 0
    fc = pd.read_parquet(out)
    assert list(fc.columns[:2]) == ["id", "date"] and fc["id"].nunique() == 4 and len(fc) == 28
    assert set(fc["id"]) == {"FOODS_3_090_CA_1_evaluation", "FOODS_3_090_TX_2_evaluation",
                             "FOODS_3_586_CA_1_evaluation", "FOODS_3_586_TX_2_evaluation"}


def test_forecast_command_column_errors_name_the_option_and_list_the_columns(tmp_path, capsys):
    src = tmp_path / "m5_long.csv"
    _m5_long(src, n_days=20)
    base = ["forecast", "--panel", str(src), "--horizon", "7", "--out", str(tmp_path / "o.csv")]
    assert main([*base, "--id-cols", "item_id", "store", "--value-col", "units_sold"]) == 2
    err = capsys.readouterr().err
    assert "--id-cols item_id store: no column(s) ['store']; --value-col units_sold: no column(s) ['units_sold']" in err
    assert "in m5_long.csv; its columns are ['id', 'item_id', 'dept_id', 'cat_id', 'store_id', 'state_id', 'd', " in err
    assert main([*base, "--id-cols", "item_id", "store_id", "--date-col", "day"]) == 2
    assert "--date-col day: no column(s) ['day']" in capsys.readouterr().err
    assert main([*base, "--id-cols", "id", "item_id", "store_id", "--value-col", "sales"]) == 2
    assert "--id-cols takes 1 or 2 columns, but got 3" in capsys.readouterr().err
    assert main([*base, "--id-cols", "id", "--value-col", "id"]) == 2
    assert "must name different columns, but got ['date', 'id', 'id']" in capsys.readouterr().err
    assert main(["forecast", "--data", str(tmp_path), "--horizon", "7", "--value-col", "sales", "--out", "o.csv"]) == 2
    assert "--value-col: only with --panel" in capsys.readouterr().err
