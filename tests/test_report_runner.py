"""The report runner on small notebooks made here: a good run, a failing one, a time-out, an interrupt.

Every test starts real kernels (``channelkit``), so each keeps to one or two tiny notebooks.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from channelkit.cli import main
from channelkit.errors import ConfigError, NotebookExecutionError, ReportFailedError
from channelkit.report.config import parse_config
from channelkit.report.runner import discover_notebooks, latest_run, run_report, switch_latest

ROOT = Path(__file__).resolve().parents[1]
PARAMS = 'data_dir = "data/sample"\nstart = None  # None = all history\ncurrency = "CNY"\nfactor = 1'


def make_notebook(path: Path, cells: list[str], *, params: str = PARAMS, title: str = "A page") -> Path:
    """A notebook with a title, a cell tagged ``parameters`` and the given code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "channelkit", "display_name": "Python (channelkit)", "language": "python"}
    first = nbformat.v4.new_code_cell(params)
    first.metadata["tags"] = ["parameters"]
    nb.cells = [first, nbformat.v4.new_markdown_cell(f"# {title}\n\nSome words."),
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


SUMMARY_CELL = ("from channelkit.report.summary import write_summary\n"
                "write_summary('{name}', headline=f'{{currency}} from {{data_dir}}', "
                "figures={{'total_revenue': 1234.5 * factor, 'revenue_share': 0.25}})")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("order_id\nO1\n")
    make_notebook(tmp_path / "nb" / "01_first.ipynb",
                  ["import sys, warnings\nwarnings.warn('noisy warning')\nprint('stderr chatter', file=sys.stderr)",
                   "print('factor is', factor)", SUMMARY_CELL.format(name="01_first")], title="First page")
    make_notebook(tmp_path / "nb" / "02_second.ipynb", ["x = 1 + 1"], params='data_dir = "x"', title="Second page")
    return tmp_path


def earlier_good_run(out: Path) -> Path:
    """A good run from before, as the runner leaves it, with ``latest`` pointing at it."""
    run = out / "20200101-000000"
    run.mkdir(parents=True)
    (run / "index.html").write_text("<html>good</html>")
    switch_latest(out, run.name)
    return run


def config_for(project: Path, **extra):
    return parse_config({"data_dir": str(project / "data"), "notebooks_dir": str(project / "nb"),
                         "out_dir": str(project / "out"), "currency": "EUR", **extra})


def test_good_run_writes_report_and_switches_latest(project, capsys):
    cfg = config_for(project, notebooks={"01_first": {"parameters": {"factor": 2}}})
    result = run_report(cfg, progress=sys.stdout)
    out = capsys.readouterr().out
    assert "[1/2] 01_first ... " in out and "[2/2] 02_second ... " in out and out.count(" s\n") == 2
    run = project / "out" / result.run_id
    assert result.status == "ok" and result.run_dir == run and latest_run(project / "out") == run
    assert (project / "out" / "latest").is_symlink()
    assert sorted(p.name for p in run.iterdir()) == ["01_first.html", "02_second.html", "index.html",
                                                     "manifest.json", "notebooks", "summaries"]
    assert (project / "out" / f"{result.run_id}.log").is_file()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["config"]["currency"] == "EUR"
    assert [n["status"] for n in manifest["notebooks"]] == ["ok", "ok"]
    first, second = manifest["notebooks"]
    # Only declared common parameters are passed: 02 declares data_dir alone.
    assert first["parameters"] == {"data_dir": str(project / "data"), "start": None, "currency": "EUR", "factor": 2}
    assert second["parameters"] == {"data_dir": str(project / "data")}
    assert first["summary"]["figures"]["total_revenue"] == pytest.approx(2469.0)
    assert [f["path"] for f in manifest["data"]["files"]] == ["orders.csv"]
    assert manifest["packages"]["papermill"] and manifest["started"] <= manifest["finished"]
    index = (run / "index.html").read_text()
    assert 'href="01_first.html"' in index and "First page" in index and "EUR from" in index
    assert "2,469" in index and "25.0%" in index and "wrote no summary" in index
    page = (run / "01_first.html").read_text()
    assert "factor is 2" in page and "stderr chatter" not in page and "noisy warning" not in page
    assert "write_summary" not in page  # no code on the page


def test_a_failing_notebook_does_not_stop_the_others(project, capsys):
    """01 fails, 02 still runs, 03 fails too: both failures named (cell as the saved notebook numbers
    it), the run kept as .failed, `latest` not switched, every page that could be made is made."""
    cfg = config_for(project)
    good = earlier_good_run(project / "out")
    make_notebook(project / "nb" / "01_first.ipynb", ["x = 1", "raise ValueError('revenue column is empty')"])
    make_notebook(project / "nb" / "03_third.ipynb", ["import cmdstanpy\nprint(cmdstanpy._TMPDIR)",  # Prophet's Stan
                                                      "1 / 0"])
    with pytest.raises(ReportFailedError) as info:
        run_report(cfg, progress=sys.stdout)
    out = capsys.readouterr().out
    assert "[1/3] 01_first ... FAILED" in out and "[2/3] 02_second ... " in out and "[3/3] 03_third ... FAILED" in out
    assert ".failed (log: " in out and "latest still points" in out
    err = info.value
    first, third = err.failures
    # Saved notebook: parameters In [1], injected parameters In [2], x = 1 In [3], the raise In [4].
    assert str(first) == "01_first failed in cell In [4]: ValueError: revenue column is empty"
    assert (first.notebook, first.cell_index, first.execution_count, first.ename) == ("01_first", 3, 4, "ValueError")
    assert str(third) == "03_third failed in cell In [4]: ZeroDivisionError: division by zero"
    assert str(err).startswith("2 of 3 notebook(s) failed; run kept in ") and str(first) in str(err)
    assert latest_run(project / "out") == good
    failed = [p for p in (project / "out").iterdir() if p.name.endswith(".failed")]
    assert len(failed) == 1 and failed[0] == err.run_dir and (failed[0] / "notebooks" / "01_first.ipynb").is_file()
    executed = nbformat.read(failed[0] / "notebooks" / "01_first.ipynb", as_version=4)
    raised = [c for c in executed.cells if c.cell_type == "code" and any(o.get("ename") == "ValueError" for o in c.outputs)]
    assert [c.execution_count for c in raised] == [4]
    assert (failed[0] / "02_second.html").is_file() and not (failed[0] / "01_first.html").exists()
    manifest = json.loads((failed[0] / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert [n["status"] for n in manifest["notebooks"]] == ["failed", "ok", "failed"]
    assert manifest["notebooks"][0]["error"] == str(first)
    assert not any(p.name.endswith(".tmp") for p in (project / "out").iterdir())
    # cmdstanpy's temporary folder (made at import, used by every Prophet fit) was made inside the
    # run's work folder and went with it.
    third_nb = nbformat.read(failed[0] / "notebooks" / "03_third.ipynb", as_version=4)
    made = Path(next(c for c in third_nb.cells if "cmdstanpy" in c.source).outputs[0]["text"].strip())
    assert f".{failed[0].name[:-len('.failed')]}.tmp/.scratch/" in str(made)
    assert not made.exists()
    assert sorted(p.name for p in failed[0].iterdir() if p.name.startswith(".")) == []


def test_time_limit_from_config(project):
    make_notebook(project / "nb" / "02_second.ipynb", ["import time\ntime.sleep(60)"])
    cfg = config_for(project, notebooks={"02_second": {"timeout": 3}})
    started = time.monotonic()
    with pytest.raises(ReportFailedError, match=r"02_second failed in cell In \[3\]: TimeoutError: the notebook ran "
                                                r"past its time limit of 3 s"):
        run_report(cfg, only=["02"], progress=None)
    assert time.monotonic() - started < 50  # stopped long before the cell's 60 s
    assert latest_run(project / "out") is None


def test_only_selects_and_checks_names(project):
    assert [p.stem for p in discover_notebooks(project / "nb", ["02", "01_first.ipynb"])] == ["01_first", "02_second"]
    with pytest.raises(ConfigError, match=r"--only names no notebook: '03' \(notebooks: 01_first, 02_second\)"):
        discover_notebooks(project / "nb", ["03"])


def test_unknown_override_is_refused_before_anything_runs(project):
    cfg = config_for(project, notebooks={"01_first": {"parameters": {"factr": 2}}, "09_gone": {"timeout": 1}})
    with pytest.raises(ConfigError) as info:
        run_report(cfg, progress=None)
    text = str(info.value)
    assert "notebooks.09_gone names no notebook" in text
    assert "notebooks.01_first.parameters names 'factr', which 01_first.ipynb does not declare" in text
    assert "declares: currency, data_dir, factor, start" in text
    assert not (project / "out").exists()


def test_cli_failure_exits_non_zero(project, capsys):
    make_notebook(project / "nb" / "01_first.ipynb", ["1 / 0"])
    cfg = project / "c.yaml"
    cfg.write_text(f"data_dir: {project / 'data'}\nnotebooks_dir: {project / 'nb'}\n")
    assert main(["report", "--config", str(cfg), "--out", str(project / "o"), "--only", "01", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines[0].startswith("channelkit report: error: 1 of 1 notebook(s) failed; run kept in ")
    assert lines[1:] == ["  01_first failed in cell In [3]: ZeroDivisionError: division by zero"]


def test_sigterm_exits_143_quietly_and_leaves_latest_alone(project):
    good = earlier_good_run(project / "out")
    make_notebook(project / "nb" / "02_second.ipynb", ["import time\ntime.sleep(120)"])
    (project / "c.yaml").write_text(f"data_dir: {project / 'data'}\nnotebooks_dir: {project / 'nb'}\n"
                                    f"out_dir: {project / 'out'}\n")
    proc = subprocess.Popen([sys.executable, "-m", "channelkit", "report", "--config", str(project / "c.yaml"),
                             "--only", "02"],
                            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # wait until the second notebook runs
        running = list((project / "out").glob(".*.tmp/notebooks/02_second.ipynb"))
        if running:
            break
        time.sleep(0.3)
    assert running, "the second notebook never started"
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)  # a scheduler stopping the job
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines() == ["channelkit report: terminated (SIGTERM)"]  # no traceback, no asyncio noise
    assert "[1/1] 02_second" in out
    assert latest_run(project / "out") == good
    names = sorted(p.name for p in (project / "out").iterdir())
    assert not any(n.endswith(".tmp") for n in names)
    failed = [n for n in names if n.endswith(".failed")]
    assert len(failed) == 1
    assert json.loads((project / "out" / failed[0] / "manifest.json").read_text())["status"] == "interrupted"


def test_without_the_channelkit_kernel_the_run_uses_this_interpreter(project, monkeypatch, capsys):
    """A plain `pip install` registers no kernel: the run still works, on sys.executable, and says so."""
    from channelkit.report import workspace

    monkeypatch.setattr(workspace, "installed_kernels", lambda: {"python3": "/somewhere"})
    make_notebook(project / "nb" / "01_first.ipynb", [
        "import os\nprint('kernel:', os.environ.get('CHANNELKIT_FALLBACK_KERNEL'))",
        "from ipykernel.connect import get_connection_file\nprint('connection:', get_connection_file())"])
    result = run_report(config_for(project), only=["01"], progress=sys.stdout)
    assert "kernel 'channelkit' is not registered; using this interpreter" in capsys.readouterr().out
    executed = nbformat.read(result.run_dir / "notebooks" / "01_first.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert f"kernel: {sys.executable}" in printed
    connection = Path(re.search(r"connection: (\S+)", printed).group(1))  # the kernel's file, in the run's scratch
    assert connection.parent == project / "out" / f".{result.run_id}.tmp" / ".runtime" and not connection.exists()
    assert "running the notebooks on the current interpreter" in result.log_path.read_text()
    assert not any(p.name.startswith(".") for p in result.run_dir.iterdir())  # spec, runtime, scratch removed
    with pytest.raises(ConfigError, match=r"kernel 'R' is not installed \(installed: python3\)"):
        run_report(config_for(project, kernel="R"), only=["01"])


def test_next_run_sweeps_what_a_killed_run_left(project):
    """A killed run's work folder (its lock free) goes; a live run's (locked) and a fresh unlocked one stay."""
    import fcntl

    from channelkit.report.workspace import sweep_leftovers

    out = project / "out"
    killed = out / ".20200101-000000.tmp"
    (killed / ".runtime").mkdir(parents=True)
    (killed / ".runtime" / "kernel-1.json").write_text("{}")
    (killed / ".lock").write_text("123\n")
    live = out / ".20200102-000000.tmp"
    live.mkdir()
    with open(live / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        young = out / ".20200103-000000.tmp"  # just made by a starting run, no lock yet
        young.mkdir()
        old = out / ".20200104-000000.tmp"  # an older version's leftover: no lock, days old
        old.mkdir()
        os.utime(old, (time.time() - 3 * 86400,) * 2)
        assert sweep_leftovers(out) == [killed.name, old.name]
        assert live.is_dir() and young.is_dir() and not killed.exists() and not old.exists()
    assert sweep_leftovers(out, keep=young.name) == [live.name]  # its run ended without cleaning up
