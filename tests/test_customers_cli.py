"""`channelkit customers`: a plain transaction log (the CDNOW sample) and a contract dataset."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from channelkit.cli import main

DATA = Path(__file__).parent / "data"
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow_log(tmp_path_factory) -> Path:
    """The raw CDNOW sample as a plain log: customer_id (text, zero-padded), date, amount."""
    raw = pd.read_csv(DATA / "customers_cdnow_transactions.txt", sep=r"\s+", header=None, dtype={1: str, 2: str},
                      names=["master_id", "customer_id", "date", "cds", "amount"])
    log = pd.DataFrame({"customer_id": raw["customer_id"], "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
                        "amount": raw["amount"]})
    path = tmp_path_factory.mktemp("cdnow") / "log.parquet"
    log.to_parquet(path, index=False)
    return path


def test_orders_log_gives_one_row_per_customer_and_params(cdnow_log, tmp_path, capsys):
    out = tmp_path / "clv.csv"
    export = tmp_path / "crm" / "segments.csv"
    key_file = tmp_path / "key"
    key_file.write_text("a-key-of-sixteen-bytes\n")
    code = main(["customers", "--orders", str(cdnow_log), "--as-of", "1997-09-30", "--time-unit", "W",
                 "--out", str(out), "--segments-out", str(export), "--pseudonym-key-file", str(key_file)])
    assert code == 0
    table = pd.read_csv(out, dtype={"customer_id": str})
    assert len(table) == 2357 and table["customer_id"].is_unique
    assert {"customer_id", "frequency", "recency", "T", "monetary", "p_alive", "clv", "segment"} <= set(table.columns)
    first = table.set_index("customer_id").loc["0001"]
    # Purchases on 1997-01-01, 01-18, 08-02 (and 12-12, after as_of): two repeat days.
    assert first["frequency"] == 2 and first["recency"] == pytest.approx(213 / 7)
    assert first["T"] == pytest.approx(272 / 7)
    assert ((table["p_alive"] > 0) & (table["p_alive"] <= 1)).all() and (table["clv"] >= 0).all()
    params = json.loads(Path(f"{out}.params.json").read_text())
    assert set(params["bgnbd"]) == {"r", "alpha", "a", "b", "time_unit"} and params["bgnbd"]["time_unit"] == "W"
    assert set(params["gamma_gamma"]) == {"p", "q", "v"}
    for name, value in PUBLISHED_BGNBD.items():  # the raw log rounds to the published summary within 0.005
        assert params["bgnbd"][name] == pytest.approx(value, rel=5e-3), name
    assert "2,357 customers" in capsys.readouterr().out
    segments = pd.read_csv(export, encoding="utf-8-sig", dtype=str)
    assert "customer_id" not in segments.columns and len(segments) == 2357
    assert not set(segments["pseudonym"]) & set(table["customer_id"])


def test_bad_input_gives_one_clear_error(tmp_path, capsys):
    log = tmp_path / "log.csv"
    pd.DataFrame({"buyer": ["a"], "date": ["2025-01-01"], "amount": [1.0]}).to_csv(log, index=False)
    assert main(["customers", "--orders", str(log), "--out", str(tmp_path / "o.csv")]) == 2
    assert "lacks column(s) ['customer_id']" in capsys.readouterr().err
    assert main(["customers", "--orders", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["customers", "--orders", str(log), "--out", str(tmp_path / "o.txt")]) == 2
    assert "--out must end in .csv or .parquet" in capsys.readouterr().err


def test_contract_dataset_uses_paid_orders(sample_dir, tmp_path):
    out = tmp_path / "sample_clv.parquet"
    assert main(["customers", "--data", str(sample_dir), "--out", str(out)]) == 0
    table = pd.read_parquet(out).set_index("customer_id")
    orders = pd.read_parquet(next(Path(sample_dir).glob("orders.*")))
    paid = orders.loc[(orders["status"] == "paid") & orders["customer_id"].notna()]
    days = paid.assign(day=pd.to_datetime(paid["order_ts"]).dt.normalize()).groupby("customer_id")["day"].nunique()
    assert len(table) == len(days)
    # Frequency = repeat purchase days of paid orders (cancelled and refunded lines excluded).
    assert (table["frequency"] == (days - 1).reindex(table.index)).all()
    only_unpaid = set(orders["customer_id"].dropna()) - set(paid["customer_id"])
    assert not only_unpaid & set(table.index)
    assert (table.loc[table["frequency"] == 0, "p_alive"] == 1.0).all()  # BG/NBD: no repeat, no dropout yet
    assert table["clv"].gt(0).all() and table["segment"].notna().all()
    params = json.loads(Path(f"{out}.params.json").read_text())
    assert params["bgnbd"]["time_unit"] == "D" and params["diagnostics"]["customers"] == len(table)
