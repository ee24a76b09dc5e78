"""`channelkit elasticity` on a panel file and on a dataset folder."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from channelkit.cli import main


def write_panel(path: Path) -> None:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", periods=120)
    rows = []
    for s in range(4):
        for c in ("tmall", "jd"):
            lp = np.log(20) + rng.normal(0, 0.15, len(dates))
            promo = rng.random(len(dates)) < 0.1
            lam = np.exp(1.5 - 1.2 * (lp - np.log(20)) + 0.3 * promo)
            rows.append(pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sku": f"00{s}", "channel": c,
                                      "units": rng.poisson(lam), "price": np.exp(lp), "promo": promo}))
    pd.concat(rows).to_csv(path, index=False)


def test_cli_writes_one_row_per_group(tmp_path: Path, capsys) -> None:
    panel, out = tmp_path / "panel.csv", tmp_path / "out.csv"
    write_panel(panel)
    assert main(["elasticity", "--panel", str(panel), "--out", str(out), "--controls", "promo"]) == 0
    result = pd.read_csv(out, dtype={"sku": str})
    assert {"sku", "channel", "elasticity", "ci_low", "ci_high", "n_obs", "status"} <= set(result.columns)
    assert len(result) == 8 and result["sku"].str.startswith("00").all()  # SKU codes stay text
    assert abs(result["elasticity"].median() + 1.2) < 0.25
    out = capsys.readouterr().out
    assert "wrote 8 rows" in out and "read as zero sales" in out  # 1% zero rows: an orders-style export


def test_cli_pyfixest_engine_gives_the_default_numbers(tmp_path: Path) -> None:
    panel, ours, lib = tmp_path / "panel.csv", tmp_path / "ours.csv", tmp_path / "lib.csv"
    write_panel(panel)
    assert main(["elasticity", "--panel", str(panel), "--out", str(ours), "--controls", "promo"]) == 0
    assert main(["elasticity", "--panel", str(panel), "--out", str(lib), "--controls", "promo",
                 "--engine", "pyfixest"]) == 0
    a, b = pd.read_csv(ours), pd.read_csv(lib)
    np.testing.assert_allclose(b["elasticity"], a["elasticity"], atol=1e-6)
    np.testing.assert_allclose(b["se"], a["se"], rtol=1e-4)
    assert b["method"].eq("ppml (pyfixest)").all()


def test_cli_pooled_by_sku_has_empty_channel(tmp_path: Path) -> None:
    panel, out = tmp_path / "panel.csv", tmp_path / "out.parquet"
    write_panel(panel)
    assert main(["elasticity", "--panel", str(panel), "--out", str(out), "--by", "sku"]) == 0
    result = pd.read_parquet(out)
    assert len(result) == 4 and result["channel"].eq("").all() and result["n_series"].eq(2).all()


def test_cli_dataset_with_pooling(sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "e.csv"
    assert main(["elasticity", "--data", str(sample_dir), "--out", str(out), "--pool"]) == 0
    result = pd.read_csv(out)
    assert {"category", "elasticity_pooled", "ci_low_pooled", "ci_high_pooled"} <= set(result.columns)


def test_cli_errors(tmp_path: Path, capsys) -> None:
    assert main(["elasticity", "--panel", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "--panel: file not found" in capsys.readouterr().err
    panel = tmp_path / "panel.csv"
    write_panel(panel)
    assert main(["elasticity", "--panel", str(panel), "--out", str(tmp_path / "o.txt")]) == 2
    assert "--out must end in .csv or .parquet" in capsys.readouterr().err
    assert main(["elasticity", "--panel", str(panel), "--out", str(tmp_path / "o.csv"), "--controls", "feature"]) == 2
    assert ("--controls feature: no column(s) ['feature'] in panel.csv; its columns are "
            "['date', 'sku', 'channel', 'units', 'price', 'promo']") in capsys.readouterr().err


def test_cli_dataset_with_promo_control_converges(sample_dir: Path, tmp_path: Path) -> None:
    # The documented `--controls promo` on a dataset: cells whose sold units were all refunded keep
    # their promo flag (channelkit.data.panel), so the flag's variation is not confined to zero-sales
    # rows (PPML separation, which left every pair `not_converged` before).
    out = tmp_path / "e.csv"
    with pytest.warns(UserWarning, match="absorb"):  # the sample's promotions are channel-wide: date effects absorb them
        assert main(["elasticity", "--data", str(sample_dir), "--out", str(out), "--controls", "promo"]) == 0
    result = pd.read_csv(out)
    assert (result["status"] == "ok").mean() > 0.95
    plain = tmp_path / "plain.csv"
    assert main(["elasticity", "--data", str(sample_dir), "--out", str(plain)]) == 0
    np.testing.assert_allclose(result["elasticity"], pd.read_csv(plain)["elasticity"], atol=1e-6)


DOMINICKS = ["--date-col", "WEEK", "--period-start", "1989-09-14", "--sku-col", "UPC", "--channel-col", "STORE",
             "--units-col", "MOVE", "--price-col", "PRICE"]


def write_dominicks(path: Path, beta: float = -2.5) -> pd.DataFrame:
    """A Dominick's-shaped movement file (as distributed: STORE, UPC, WEEK, MOVE, QTY, PRICE, SALE, PROFIT, OK)
    with a known own-price elasticity ``beta`` of units on the paid unit price PRICE / QTY."""
    rng = np.random.default_rng(11)
    weeks = np.arange(1, 105)
    rows = []
    for store in (2, 5, 8):
        week_shock = rng.normal(0, 0.1, len(weeks))  # store-week demand shocks: the store x week effects absorb them
        for upc, base in ((1110000139, 2.49), (1110000142, 1.99), (3828190029, 3.29), (3828154001, 2.79)):
            sale = rng.random(len(weeks)) < 0.25
            unit = base * np.where(sale, 1 - rng.uniform(0.1, 0.35, len(weeks)), 1 + rng.normal(0, 0.03, len(weeks)))
            qty = np.where(sale & (rng.random(len(weeks)) < 0.5), 2, 1)  # half the sales are "2 for $x" packs
            price = np.round(unit * qty, 2)
            move = rng.poisson(np.exp(np.log(30) + week_shock + beta * np.log(price / qty / base)))
            ok = np.where(rng.random(len(weeks)) < 0.06, 0, 1)
            # Unreliable (OK = 0) rows: a scanning failure recorded no movement at a deep-discount price.
            move, price = np.where(ok == 0, 0, move), np.where(ok == 0, np.round(0.5 * base, 2), price)
            rows.append(pd.DataFrame({"STORE": store, "UPC": upc, "WEEK": weeks, "MOVE": move, "QTY": qty,
                                      "PRICE": price, "SALE": np.where(sale, "S", ""), "PROFIT": 25.0, "OK": ok}))
    frame = pd.concat(rows, ignore_index=True)
    frame.to_csv(path, index=False)
    return frame


def test_cli_recovers_the_elasticity_of_a_dominicks_shaped_file(tmp_path: Path, capsys) -> None:
    src, out = tmp_path / "wcer.csv", tmp_path / "e.csv"
    frame = write_dominicks(src)
    assert main(["elasticity", "--panel", str(src), *DOMINICKS, "--price-divisor-col", "QTY", "--drop-flag", "OK",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"dropped {int((frame['OK'] == 0).sum())} rows of --panel: OK == 0" in printed
    assert "periods without a row read as not observed" in printed  # dropped weeks are not zero-sale weeks
    result = pd.read_csv(out, dtype={"UPC": str})
    assert list(result.columns[:3]) == ["UPC", "STORE", "elasticity"]  # the file's own key names
    assert len(result) == 12 and result["status"].eq("ok").all()
    assert abs(result["elasticity"].median() + 2.5) < 0.1 and result["elasticity"].between(-3.0, -2.0).all()
    assert ((result["ci_low"] < -2.5) & (result["ci_high"] > -2.5)).mean() >= 0.75  # 90% intervals cover
    # Every reliable week of a series is in its fit, and only those.
    kept = frame[frame["OK"] == 1].groupby(["UPC", "STORE"]).size().rename("kept").reset_index()
    both = result.astype({"UPC": "int64"}).merge(kept, on=["UPC", "STORE"], validate="one_to_one")
    assert both["n_obs"].tolist() == both["kept"].tolist()


def test_cli_dominicks_options_change_the_answer_as_they_should(tmp_path: Path) -> None:
    src = tmp_path / "wcer.csv"
    write_dominicks(src)

    def median(*extra: str) -> float:
        out = tmp_path / "e.csv"
        assert main(["elasticity", "--panel", str(src), *DOMINICKS, *extra, "--out", str(out)]) == 0
        return float(pd.read_csv(out)["elasticity"].median())

    # Pack prices (PRICE of 2 units) read as unit prices, or zero-movement OK = 0 rows kept, hide the response.
    assert median("--drop-flag", "OK") > -1.0
    assert median("--price-divisor-col", "QTY") > -1.0
    pooled = tmp_path / "by_sku.csv"
    assert main(["elasticity", "--panel", str(src), *DOMINICKS, "--price-divisor-col", "QTY", "--drop-flag", "OK",
                 "--by", "sku", "--out", str(pooled)]) == 0
    by_sku = pd.read_csv(pooled, keep_default_na=False)
    assert len(by_sku) == 4 and by_sku["STORE"].eq("").all() and by_sku["n_series"].eq(3).all()
    assert (by_sku["elasticity"].astype(float) + 2.5).abs().max() < 0.15


def test_period_dates_count_weeks_from_the_start_of_week_one() -> None:
    from channelkit.commands.elasticity import period_dates

    got = period_dates(pd.Series([1, 2, 53, 400]), start="1989-09-14")
    assert got.dt.strftime("%Y-%m-%d").tolist() == ["1989-09-14", "1989-09-21", "1990-09-13", "1997-05-08"]
    days = period_dates(pd.Series(["1", "32"]), start="2016-01-29", freq="D")
    assert days.dt.strftime("%Y-%m-%d").tolist() == ["2016-01-29", "2016-02-29"]


def test_cli_column_option_errors(tmp_path: Path, capsys) -> None:
    src = tmp_path / "wcer.csv"
    write_dominicks(src)
    out = str(tmp_path / "e.csv")
    columns = "its columns are ['STORE', 'UPC', 'WEEK', 'MOVE', 'QTY', 'PRICE', 'SALE', 'PROFIT', 'OK']"
    assert main(["elasticity", "--panel", str(src), "--out", out]) == 2  # the contract's names by default
    err = capsys.readouterr().err
    assert ("--date-col date: no column(s) ['date']; --sku-col sku: no column(s) ['sku']; --channel-col channel: "
            "no column(s) ['channel']; --units-col units: no column(s) ['units']; --price-col price: no column(s) "
            f"['price'] in wcer.csv; {columns}") in err
    assert main(["elasticity", "--panel", str(src), *DOMINICKS, "--price-divisor-col", "QTTY", "--out", out]) == 2
    assert f"--price-divisor-col QTTY: no column(s) ['QTTY'] in wcer.csv; {columns}" in capsys.readouterr().err
    assert main(["elasticity", "--panel", str(src), *DOMINICKS, "--drop-flag", "SALE", "--out", out]) == 2
    assert "--drop-flag SALE: the column must hold numbers (0 drops the row), but has values like ['S']" in \
        capsys.readouterr().err
    no_start = [a for a in DOMINICKS if a not in ("--period-start", "1989-09-14")]
    assert main(["elasticity", "--panel", str(src), *no_start, "--period-freq", "W", "--out", out]) == 2
    assert "--period-freq needs --period-start" in capsys.readouterr().err
    assert main(["elasticity", "--panel", str(src), *DOMINICKS[:2], "--period-start", "week one", *DOMINICKS[4:],
                 "--out", out]) == 2
    assert "--period-start must be a date such as 1989-09-14, but got 'week one'" in capsys.readouterr().err
    assert main(["elasticity", "--panel", str(src), *DOMINICKS, "--units-col", "UPC", "--out", out]) == 2
    assert "must name different columns" in capsys.readouterr().err
    assert main(["elasticity", "--data", str(tmp_path), "--sku-col", "UPC", "--out", out]) == 2
    assert "--sku-col: only with --panel" in capsys.readouterr().err


def test_cli_non_integer_periods_are_named(tmp_path: Path, capsys) -> None:
    src = tmp_path / "panel.csv"
    write_panel(src)  # real dates in `date`, not week numbers
    out = str(tmp_path / "e.csv")
    assert main(["elasticity", "--panel", str(src), "--period-start", "2024-01-01", "--out", out]) == 2
    assert "--period-start: column 'date' must hold whole period numbers, but has values like ['2024-01-01'" in \
        capsys.readouterr().err


def test_cli_picked_price_column_replaces_a_list_price_named_price(tmp_path: Path) -> None:
    # An export with its shelf price in `price` and the paid price in `paid`: --price-col paid is what is used.
    src, out, ref = tmp_path / "export.csv", tmp_path / "e.csv", tmp_path / "ref.csv"
    write_panel(ref)
    frame = pd.read_csv(ref, dtype={"sku": str})
    frame.rename(columns={"price": "paid"}).assign(price=25.0).to_csv(src, index=False)
    assert main(["elasticity", "--panel", str(src), "--price-col", "paid", "--out", str(out)]) == 0
    assert main(["elasticity", "--panel", str(ref), "--out", str(tmp_path / "e_ref.csv")]) == 0
    np.testing.assert_allclose(pd.read_csv(out)["elasticity"], pd.read_csv(tmp_path / "e_ref.csv")["elasticity"])
