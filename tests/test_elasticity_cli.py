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
    assert main(["elasticity", "--panel", str(panel), "--out", str(tmp_path / "o.csv"), "--controls", "feature"]) == 1
    assert "lacks the column(s) ['feature']" in capsys.readouterr().err


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
