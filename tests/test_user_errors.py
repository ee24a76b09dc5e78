"""Every user error the robustness review found (issue 17) gives one message and exit code 2.

One table of cases: the command line, what the message must name (file, option or column), and
what must not happen (a traceback, a second message, an output written before the error).
GBK inputs, which the README promises, must be read, not refused.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from channelkit.cli import main
from channelkit.io import read_input
from minimal_data import replace_line, write_dataset


def panel_frame(n_days: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    dates = pd.date_range("2025-01-01", periods=n_days).strftime("%Y-%m-%d")
    return pd.concat([pd.DataFrame({"date": dates, "sku": sku, "channel": "天猫", "units": rng.poisson(9, n_days),
                                    "price": rng.uniform(18, 22, n_days).round(2)}) for sku in ("001", "002")])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    made = {"dir": d}
    panel = panel_frame()
    made["panel"] = d / "panel.csv"
    panel.to_csv(made["panel"], index=False)
    made["gbk_panel"] = d / "gbk_panel.csv"
    panel.to_csv(made["gbk_panel"], index=False, encoding="gb18030")
    made["empty"] = d / "empty.csv"
    made["empty"].write_bytes(b"")
    made["header_only"] = d / "header_only.csv"
    made["header_only"].write_text("date,sku,channel,units,price\n")
    made["bad_date"] = d / "bad_date.csv"
    panel.assign(date=panel["date"].where(panel.index != 5, "2025-02-30")).to_csv(made["bad_date"], index=False)
    made["zero"] = d / "zero.csv"
    panel.assign(units=0).to_csv(made["zero"], index=False)
    made["dup"] = d / "dup.csv"
    pd.concat([panel, panel.head(1)]).to_csv(made["dup"], index=False)
    made["nan_units"] = d / "nan_units.csv"
    panel.assign(units=panel["units"].astype(float).where(panel.index != 7)).to_csv(made["nan_units"], index=False)
    made["xlsx"] = d / "corrupt.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    made["xlsx"].write_bytes(buffer.getvalue()[:-30])  # a truncated download
    made["not_a_folder"] = d / "plain_file"
    made["not_a_folder"].write_text("x")
    made["dataset"] = write_dataset(d / "dataset")
    made["no_events"] = write_dataset(d / "no_events", drop=("events",))
    made["bad_dataset"] = write_dataset(d / "bad_dataset", orders=replace_line("orders", "C3,app,3,20", "C3,app,x,20"))
    for name, text in {"values": "orders:\n  columns: {数量: units}\n  values: x\n",
                       "encoding": "orders:\n  columns: {数量: units}\n  encoding: klingon\n",
                       "date": "orders:\n  columns: {数量: units}\n  constants: {order_ts: 2025-02-30}\n",
                       "absolute": "orders:\n  file: /etc/passwd\n  columns: {数量: units}\n"}.items():
        made[f"map_{name}"] = d / f"map_{name}.yaml"
        made[f"map_{name}"].write_text(text, encoding="utf-8")
    for name, text in {"start": "start: 2025-02-30\n", "timeout": "timeout: .nan\n"}.items():
        made[f"cfg_{name}"] = d / f"cfg_{name}.yaml"
        made[f"cfg_{name}"].write_text(f"data_dir: {made['dataset']}\n{text}", encoding="utf-8")
    return made


def CASES(f: dict[str, Path]) -> list[tuple[list[str], list[str]]]:
    """(argv, words the one message must contain)."""
    o = str(f["dir"] / "out" / "o.csv")
    fc = ["--horizon", "2", "--out", o]
    return [
        (["forecast", "--panel", str(f["empty"]), *fc], ["--panel", "empty.csv", "is empty"]),
        (["forecast", "--panel", str(f["header_only"]), *fc], ["--panel", "header_only.csv", "no data rows"]),
        (["elasticity", "--panel", str(f["empty"]), "--out", o], ["--panel", "empty.csv", "is empty"]),
        (["elasticity", "--panel", str(f["bad_date"]), "--out", o], ["bad_date.csv", "'date'", "2025-02-30"]),
        (["elasticity", "--panel", str(f["zero"]), "--out", o], ["zero.csv", "'units'", "no positive value"]),
        (["elasticity", "--panel", str(f["dup"]), "--out", o], ["dup.csv", "2 rows share a (date, sku, channel)"]),
        (["elasticity", "--panel", str(f["nan_units"]), "--out", o], ["nan_units.csv", "'units'", "2 missing", "'units': 'nan'"]),
        (["elasticity", "--panel", str(f["xlsx"]), "--out", o], ["--panel", "corrupt.xlsx", "could not be read"]),
        (["customers", "--orders", str(f["xlsx"]), "--out", o], ["--orders", "corrupt.xlsx", "could not be read"]),
        (["customers", "--orders", str(f["empty"]), "--out", o], ["--orders", "empty.csv", "is empty"]),
        (["experiment", "--input", str(f["empty"]), "--out", o], ["--input", "empty.csv", "is empty"]),
        (["attribution", "--paths", str(f["empty"]), "--out", o], ["--paths", "empty.csv", "is empty"]),
        (["attribution", "--touches", str(f["empty"]), "--conversion-col", "c", "--out", o], ["--touches", "empty.csv", "is empty"]),
        (["promotions", "--data", str(f["dataset"]), "--spend", str(f["empty"]), "--out", o],
         ["--spend", "empty.csv", "is empty"]),
        (["promotions", "--data", str(f["dataset"]), "--start", "2025-02-30", "--out", o], ["--start", "2025-02-30"]),
        (["forecast", "--data", str(f["bad_dataset"]), *fc], ["orders (orders.csv), column `units`: must be a number"]),
        (["promotions", "--data", str(f["no_events"]), "--out", o], ["events", "channelkit promotions"]),
        (["customers", "--orders", str(f["panel"]), "--as-of", "2025-13-01", "--out", o], ["--as-of", "2025-13-01"]),
        (["validate", str(f["dataset"]), "--mapping", str(f["map_values"])], ["map_values.yaml", "orders.values"]),
        (["validate", str(f["dataset"]), "--mapping", str(f["map_encoding"])], ["map_encoding.yaml", "klingon"]),
        (["validate", str(f["dataset"]), "--mapping", str(f["map_date"])], ["map_date.yaml", "day is out of range"]),
        (["validate", str(f["dataset"]), "--mapping", str(f["map_absolute"])], ["map_absolute.yaml", "/etc/passwd"]),
        (["report", "--config", str(f["cfg_start"])], ["cfg_start.yaml", "day is out of range"]),
        (["report", "--config", str(f["cfg_timeout"])], ["cfg_timeout.yaml", "timeout must be a positive number"]),
        (["forecast", "--panel", str(f["panel"]), "--horizon", "2", "--out", str(f["not_a_folder"] / "o.csv")],
         ["--out", "cannot write in folder", "plain_file"]),
        (["forecast", "--panel", str(f["panel"]), "--horizon", "2", "--out", str(f["dir"])],
         ["--out must end in .csv or .parquet"]),
        (["forecast", "--panel", str(f["panel"]), "--horizon", "2", "--out", str(f["dir"] / "x.csv"),
          "--scheduler", "tcp://nowhere:1"], ["--scheduler needs --backend dask"]),
        (["attribution", "--paths", str(f["panel"]), "--out", o, "--lookback-days", "-1"], ["--lookback-days"]),
    ]


def test_every_user_error_is_one_message_and_exit_2(files, capsys, monkeypatch):
    monkeypatch.delenv("CHANNELKIT_PSEUDONYM_KEY", raising=False)
    failures = []
    for argv, words in CASES(files):
        code = main(argv)
        err = capsys.readouterr().err
        missing = [w for w in words if w not in err]
        if code != 2 or missing or "Traceback" in err or err.count(" error: ") != 1:
            failures.append(f"{' '.join(argv[:3])}: exit {code}, missing {missing}, stderr {err[:300]!r}")
    assert not failures, "\n".join(failures)
    assert not (files["dir"] / "out" / "o.csv").exists()  # nothing was written by any failing command


def test_segments_out_without_a_key_stops_before_writing(files, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CHANNELKIT_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("CHANNELKIT_PSEUDONYM_KEY_FILE", raising=False)
    out = tmp_path / "clv.csv"
    out.write_text("previous good output\n")
    argv = ["customers", "--orders", str(files["panel"]), "--customer-col", "sku", "--amount-col", "price",
            "--out", str(out), "--segments-out", str(tmp_path / "seg.csv")]
    assert main(argv) == 2
    assert "pseudonymisation key is needed" in capsys.readouterr().err
    assert out.read_text() == "previous good output\n" and not (tmp_path / "seg.csv").exists()
    assert main([*argv, "--pseudonym-key", "short"]) == 2
    err = capsys.readouterr().err
    assert "warning: --pseudonym-key shows the key in `ps`" in err and "5 byte(s); it needs at least 16" in err


def test_gbk_inputs_are_read(files, tmp_path, capsys):
    """The README promises GBK: a GB18030 panel with a Chinese channel goes through forecast and elasticity."""
    frame = read_input(files["gbk_panel"], option="--panel", string_columns=("sku",))
    assert set(frame["channel"]) == {"天猫"} and list(frame["sku"].unique()) == ["001", "002"]
    out = tmp_path / "fc.csv"
    assert main(["forecast", "--panel", str(files["gbk_panel"]), "--horizon", "2", "--models", "seasonal_naive",
                 "--windows", "1", "--n-jobs", "1", "--out", str(out)]) == 0
    fc = pd.read_csv(out, dtype={"sku": str})
    assert set(fc["channel"]) == {"天猫"} and len(fc) == 4
    assert main(["elasticity", "--panel", str(files["gbk_panel"]), "--out", str(tmp_path / "e.csv"), "--min-obs", "5"]) == 0
    assert set(pd.read_csv(tmp_path / "e.csv")["channel"]) == {"天猫"}
    spend = tmp_path / "spend.csv"
    spend.write_bytes("event,spend,channel\n双11,1000,天猫\n".encode("gb18030"))
    assert read_input(spend, option="--spend").to_dict("records") == [{"event": "双11", "spend": 1000, "channel": "天猫"}]


def test_validate_lists_unreadable_tables_as_problems(files, tmp_path, capsys):
    """In a dataset folder a corrupt .xlsx or an empty CSV is a data problem (exit 1, as `validate` documents)."""
    folder = write_dataset(tmp_path / "d")
    (folder / "orders.csv").unlink()
    (folder / "orders.xlsx").write_bytes(files["xlsx"].read_bytes())
    (folder / "inventory.csv").write_bytes(b"")
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "orders (orders.xlsx): could not be read" in out and "inventory (inventory.csv): is not a readable CSV" in out


def test_write_paths_is_not_written_when_attribution_fails(tmp_path, capsys):
    log = tmp_path / "log.csv"
    pd.DataFrame({"customer_id": ["u1", "u2"], "ts": ["2025-01-01", "2025-01-02"], "channel": ["a", "b"],
                  "converted": [0, 0]}).to_csv(log, index=False)
    paths = tmp_path / "paths.csv"
    assert main(["attribution", "--touches", str(log), "--conversion-col", "converted", "--out",
                 str(tmp_path / "o.csv"), "--write-paths", str(paths)]) == 2
    assert "the path table has no conversions" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_report_refuses_an_out_dir_it_cannot_write(files, tmp_path, capsys):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('data_dir = "x"')]
    nb.cells[0].metadata["tags"] = ["parameters"]
    (tmp_path / "nb").mkdir()
    nbformat.write(nb, tmp_path / "nb" / "01_a.ipynb")
    config = tmp_path / "c.yaml"
    config.write_text(f"data_dir: {files['dataset']}\nnotebooks_dir: {tmp_path / 'nb'}\n")
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    assert main(["report", "--config", str(config), "--out", str(blocker / "runs")]) == 2
    err = capsys.readouterr().err
    assert "out_dir" in err and "not_a_folder/runs" in err and "cannot write there" in err and "Traceback" not in err
