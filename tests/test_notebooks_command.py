"""`channelkit notebooks --out DIR` and the report's --skip / --currency options (no notebook runs)."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from channelkit.cli import main
from channelkit.commands.report import notebooks_to_run
from channelkit.errors import ConfigError
from channelkit.report.config import load_config, packaged_notebooks_dir

ROOT = Path(__file__).resolve().parents[1]


def test_copy_puts_the_default_notebooks_in_a_folder(tmp_path, capsys):
    out = tmp_path / "my_notebooks"
    assert main(["notebooks", "--out", str(out)]) == 0
    copied = sorted(p.name for p in out.glob("*.ipynb"))
    assert copied == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) and "01_channel_performance.ipynb" in copied
    first = nbformat.read(out / "01_channel_performance.ipynb", as_version=4).cells[0]
    assert "parameters" in first.metadata.get("tags", [])
    assert f"notebooks_dir: {out}" in capsys.readouterr().out
    assert main(["notebooks", "--out", str(out)]) == 2  # never overwrites without --force
    assert "already in" in capsys.readouterr().err
    assert main(["notebooks", "--out", str(out), "--force"]) == 0


def test_packaged_notebooks_are_the_repository_notebooks():
    assert packaged_notebooks_dir().resolve() == (ROOT / "notebooks").resolve()


def test_skip_and_currency(tmp_path):
    folder = ROOT / "notebooks"
    every = sorted(p.stem for p in folder.glob("*.ipynb"))
    assert notebooks_to_run(folder, only=None, skip=[]) is None
    kept = notebooks_to_run(folder, only=None, skip=["04", "06_customers"])
    assert kept == [n for n in every if n not in ("04_price_elasticity", "06_customers")]
    assert notebooks_to_run(folder, only=["01", "02"], skip=["02"]) == ["01_channel_performance"]
    with pytest.raises(ConfigError, match="--skip/skip names no notebook: '99'"):
        notebooks_to_run(folder, only=None, skip=["99"])
    with pytest.raises(ConfigError, match="leaves no notebook to run"):
        notebooks_to_run(folder, only=["01"], skip=["01"])
    (tmp_path / "data").mkdir()
    assert load_config(None, overrides={"data_dir": str(tmp_path / "data"), "currency": "USD"}).currency == "USD"
    with pytest.raises(ConfigError, match="currency must be a 3-letter ISO 4217 code"):
        load_config(None, overrides={"data_dir": str(tmp_path / "data"), "currency": "dollars"})
