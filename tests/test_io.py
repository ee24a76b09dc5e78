"""channelkit.io: encoding detection for plain inputs, and writes that never destroy a good output."""
from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from channelkit.cli import main
from channelkit.errors import ConfigError, InputError, OutputError
from channelkit.io import check_output, read_input, write_frame, write_output

TEXT = "date,sku,channel,units\n2025-01-01,001,天猫旗舰店,3\n2025-01-02,001,京东,4\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_plain_inputs_in_every_encoding_read_the_same(tmp_path, encoding):
    path = tmp_path / "panel.csv"
    path.write_bytes(TEXT.encode(encoding))
    frame = read_input(path, option="--panel", string_columns=("sku",))
    assert list(frame.columns) == ["date", "sku", "channel", "units"]  # no BOM stuck to `date`
    assert frame["channel"].tolist() == ["天猫旗舰店", "京东"] and frame["sku"].tolist() == ["001", "001"]


def test_unreadable_inputs_name_option_and_file(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"a,b\n\xff\xfe\xfa,1\n")
    with pytest.raises(InputError, match=r"--panel .*latin.csv is neither UTF-8 nor GBK/GB18030 text.*line 2"):
        read_input(latin, option="--panel")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"--panel .*broken.parquet could not be read.*magic bytes"):
        read_input(broken, option="--panel")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"--panel must be a \.csv, \.parquet or \.xlsx file, but got 'x.json'"):
        read_input(tmp_path / "x.json", option="--panel", suffixes=(".csv", ".parquet", ".xlsx"))
    with pytest.raises(ConfigError, match=r"--panel: file not found: .*nope.csv"):
        read_input(tmp_path / "nope.csv", option="--panel")


def _disk_full_after(nbytes: int):
    """A writer that writes ``nbytes`` of the file, then fails as a full disk does."""
    def write(path, *args, **kwargs):
        Path(path).write_bytes(b"x" * nbytes)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    return write


def test_a_failed_write_leaves_the_previous_output_byte_identical(tmp_path):
    out = tmp_path / "result.csv"
    write_frame(pd.DataFrame({"a": [1, 2]}), out)
    before = out.read_bytes()
    with pytest.raises(OutputError, match=r"--out .*result.csv: could not write \(the disk is full\).*unchanged"):
        write_output(out, _disk_full_after(3))
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["result.csv"]
    with pytest.raises(KeyboardInterrupt):  # an interrupt mid-write: the same
        write_output(out, lambda p: (p.write_text("half"), (_ for _ in ()).throw(KeyboardInterrupt)))
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["result.csv"]
    write_frame(pd.DataFrame({"a": [3]}), out)
    assert out.read_text() == "a\n3\n" and (out.stat().st_mode & 0o777) != 0o600  # the usual permissions


def test_a_killed_writers_temporary_file_is_swept_by_the_next_write(tmp_path):
    import os
    import time

    out = tmp_path / "result.csv"
    killed, fresh = tmp_path / ".result.csv.abc123.tmp", tmp_path / ".result.csv.def456.tmp"
    killed.write_text("half")
    os.utime(killed, (time.time() - 7200,) * 2)
    fresh.write_text("another writer, now")
    write_frame(pd.DataFrame({"a": [1]}), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "result.csv"]


def test_outputs_are_checked_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match=r"--out .*file/o.csv: cannot write in folder"):
        check_output(blocker / "o.csv", option="--out")
    with pytest.raises(ConfigError, match=r"--out .*: is a folder; name a file inside it"):
        check_output(tmp_path, option="--out")
    with pytest.raises(ConfigError, match=r"--write-paths must end in \.csv or \.parquet, but got 'p.txt'"):
        check_output(tmp_path / "p.txt", option="--write-paths", suffixes=(".csv", ".parquet"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # the check leaves nothing behind


def test_every_command_keeps_its_previous_output_when_the_disk_fills(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(5)
    days = pd.date_range("2025-01-01", periods=30).strftime("%Y-%m-%d")
    panel = pd.concat([pd.DataFrame({"date": days, "sku": s, "channel": "jd", "units": rng.poisson(8, 30),
                                     "price": rng.uniform(9, 11, 30)}) for s in ("a", "b")])
    panel.to_csv(tmp_path / "panel.csv", index=False)
    users = pd.DataFrame({"variant": np.repeat(["control", "treatment"], 200), "converted": rng.random(400) < 0.2,
                          "revenue": rng.gamma(2, 5, 400)})
    users.to_csv(tmp_path / "users.csv", index=False)
    pd.DataFrame({"path": ["a > b", "b", "a"], "conversions": [3, 1, 2], "nulls": [5, 4, 4]}).to_csv(
        tmp_path / "paths.csv", index=False)
    outs = tmp_path / "outs"
    commands = {
        "forecast": ["--panel", str(tmp_path / "panel.csv"), "--horizon", "2", "--models", "seasonal_naive",
                     "--windows", "1", "--n-jobs", "1"],
        "elasticity": ["--panel", str(tmp_path / "panel.csv"), "--min-obs", "5"],
        "experiment": ["--input", str(tmp_path / "users.csv"), "--resamples", "50"],
        "attribution": ["--paths", str(tmp_path / "paths.csv"), "--models", "linear"],
    }
    outs.mkdir()
    for name in commands:
        (outs / f"{name}.csv").write_text(f"previous good {name} output\n")
    fail = _disk_full_after(10)
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda frame, path, *args, **kwargs: fail(path))
    for name, argv in commands.items():
        assert main([name, *argv, "--out", str(outs / f"{name}.csv")]) == 1, name
        err = capsys.readouterr().err
        assert "could not write (the disk is full)" in err and f"{name}.csv" in err and "Traceback" not in err
        assert (outs / f"{name}.csv").read_text() == f"previous good {name} output\n"
    assert sorted(p.name for p in outs.iterdir()) == sorted(f"{n}.csv" for n in commands)  # no partial file
