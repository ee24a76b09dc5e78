"""Which parameters a notebook receives: the common ones it declares, plus checked overrides."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from channelkit.errors import ConfigError
from channelkit.report.config import parse_config
from channelkit.report.parameters import declared_parameters, parameters_for, plan_parameters


def write_nb(path: Path, params: str | None, *, kernel: bool = False) -> Path:
    nb = nbformat.v4.new_notebook()
    if kernel:
        nb.metadata["kernelspec"] = {"name": "channelkit", "display_name": "Python (channelkit)", "language": "python"}
    cells = [nbformat.v4.new_code_cell("x = 1")]
    if params is not None:
        cell = nbformat.v4.new_code_cell(params)
        cell.metadata["tags"] = ["parameters"]
        cells.insert(0, cell)
    nb.cells = cells
    nbformat.write(nb, path)
    return path


def test_declared_includes_lines_papermill_cannot_parse(tmp_path):
    nb = write_nb(tmp_path / "01_a.ipynb", 'data_dir = "data/sample"\nstart = None  # None = all history\n'
                                           'horizon: int = 28\nlevels = [80,\n          95]', kernel=True)
    declared = declared_parameters(nb)
    assert set(declared) == {"data_dir", "start", "horizon", "levels"}
    assert declared["data_dir"]["default"] == '"data/sample"'


def test_only_declared_common_parameters_are_passed(tmp_path):
    (tmp_path / "data").mkdir()
    nb = write_nb(tmp_path / "01_a.ipynb", 'data_dir = "d"\ncurrency = "CNY"\nalpha = 0.5')
    cfg = parse_config({"data_dir": str(tmp_path / "data"), "currency": "USD", "horizon": 7,
                        "notebooks_dir": str(tmp_path), "notebooks": {"01_a": {"parameters": {"alpha": 0.9}}}})
    assert parameters_for(nb, cfg) == {"data_dir": str(tmp_path / "data"), "currency": "USD", "alpha": 0.9}


def test_notebook_without_parameters_cell(tmp_path):
    (tmp_path / "data").mkdir()
    nb = write_nb(tmp_path / "01_a.ipynb", None)
    cfg = parse_config({"data_dir": str(tmp_path / "data"), "notebooks_dir": str(tmp_path)})
    assert declared_parameters(nb) == {} and parameters_for(nb, cfg) == {}
    bad = parse_config({"data_dir": str(tmp_path / "data"), "notebooks_dir": str(tmp_path),
                        "notebooks": {"01_a": {"parameters": {"alpha": 1}}}})
    with pytest.raises(ConfigError, match=r"names 'alpha', which 01_a.ipynb does not declare \(it declares: none"):
        plan_parameters([nb], bad)
