"""Every notebook in notebooks/ runs clean on the small sample, under nbval and through `channelkit report`.

nbval runs a notebook as stored, so the sample's folder is injected first: papermill writes a
parameterized copy (``prepare_only=True``, no execution) into a temporary folder, and
``pytest --nbval-lax`` runs those copies in a child process (lax: outputs that legitimately change,
such as timings and charts, are not compared; any error fails). The same notebooks then run end to
end through the CLI. Figures from each notebook's summary JSON are checked against computations
made here directly from the raw files, and the rendered pages against the sample's customer ids.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import papermill
import pytest
import yaml

from channelkit.cli import main
from channelkit.report.parameters import declared_parameters
from channelkit.report.runner import latest_run
from channelkit.report.summary import SUMMARY_DIR_ENV
from hostile_data import LIVE, make_hostile_copy

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Quick-mode parameters, passed to a notebook only when its parameters cell declares the name
# (e.g. 03's `quick`; 02's `prophet_series = 0` skips its Prophet comparison, the slowest part).
QUICK = {"quick": True, "fast": True, "prophet_series": 0}

pytestmark = pytest.mark.slow


def quick_overrides(notebook: Path) -> dict:
    declared = declared_parameters(notebook)
    return {k: v for k, v in QUICK.items() if k in declared}


def paid_lines(sample_dir: Path) -> pd.DataFrame:
    """The sample's paid order lines, read straight from the file (not through channelkit's loaders)."""
    orders = pd.read_parquet(sample_dir / "orders.parquet") if (sample_dir / "orders.parquet").exists() \
        else pd.read_csv(sample_dir / "orders.csv", parse_dates=["order_ts"])
    orders["order_ts"] = pd.to_datetime(orders["order_ts"])
    paid = orders[orders["status"] == "paid"].copy()
    paid["revenue"] = paid["units"] * paid["unit_price"]
    return paid


def check_summaries(summaries: Path, sample_dir: Path) -> None:
    """Summary figures against independent computations on the raw sample files."""
    found = {p.name.removesuffix(".summary.json") for p in summaries.glob("*.summary.json")}
    assert found == {p.stem for p in NOTEBOOKS}, "every notebook writes its summary JSON"
    for name in found:
        assert json.loads((summaries / f"{name}.summary.json").read_text())["headline"]
    paid = paid_lines(sample_dir)
    if "00_data_overview" in found:
        overview = json.loads((summaries / "00_data_overview.summary.json").read_text())["figures"]
        assert overview["net_revenue"] == pytest.approx(paid["revenue"].sum(), rel=1e-9)
    if "01_channel_performance" in found:
        check_scorecard(json.loads((summaries / "01_channel_performance.summary.json").read_text())["figures"],
                        paid, sample_dir)


def check_scorecard(figures: dict, paid: pd.DataFrame, sample_dir: Path) -> None:
    start, end = pd.Timestamp(figures["period_start"]), pd.Timestamp(figures["period_end"])
    last = paid["order_ts"].max().normalize()
    # The default period is the last calendar month the data cover completely.
    expected_end = last if last.is_month_end else last.replace(day=1) - pd.Timedelta(days=1)
    assert end == expected_end and start == end.replace(day=1)
    window = paid[(paid["order_ts"] >= start) & (paid["order_ts"] < end + pd.Timedelta(days=1))]
    assert figures["total_revenue"] == pytest.approx(window["revenue"].sum(), rel=1e-9)
    assert figures["orders"] == window["order_id"].nunique()
    year_ago = paid[(paid["order_ts"] >= start - pd.DateOffset(years=1))
                    & (paid["order_ts"] < end - pd.DateOffset(years=1) + pd.Timedelta(days=1))]
    assert figures["revenue_growth_yoy"] == pytest.approx(window["revenue"].sum() / year_ago["revenue"].sum() - 1)
    # Inventory risk: days of cover = on hand / mean daily units over the 28 days up to the snapshot day.
    inventory = pd.read_csv(sample_dir / "inventory.csv", parse_dates=["as_of"])
    as_of = inventory["as_of"].max()
    recent = paid[(paid["order_ts"] >= as_of - pd.Timedelta(days=27)) & (paid["order_ts"] < as_of + pd.Timedelta(days=1))]
    demand = recent.groupby("sku")["units"].sum() / 28
    stock = inventory.groupby("sku").agg(on_hand=("on_hand", "sum"), lead=("lead_time_days", "max"))
    cover = stock["on_hand"] / demand.reindex(stock.index)
    assert figures["skus_at_risk"] == int((cover < stock["lead"]).sum())


@pytest.fixture(scope="module")
def nbval_run(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    work = tmp_path_factory.mktemp("nbval")
    for notebook in NOTEBOOKS:
        params = {"data_dir": str(sample_dir), **quick_overrides(notebook)}
        papermill.execute_notebook(str(notebook), str(work / notebook.name), parameters=params, prepare_only=True,
                                   progress_bar=False)
    (work / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, SUMMARY_DIR_ENV: str(work / "summaries"), "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-kernel-name", "channelkit",
         "--nbval-cell-timeout", "900", "-p", "no:cacheprovider", "-q", "-c", str(work / "pytest.ini"),
         "--rootdir", str(work), *(str(work / nb.name) for nb in NOTEBOOKS)],
        cwd=work, env=env, capture_output=True, text=True, timeout=3600,
    )
    return work, proc


def test_notebooks_exist_and_follow_the_conventions():
    assert [p.stem for p in NOTEBOOKS][:2] == ["00_data_overview", "01_channel_performance"]
    for notebook in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+", notebook.stem)
        assert {"data_dir", "start", "end", "currency"} <= set(declared_parameters(notebook)), notebook.name


def test_every_notebook_runs_clean_under_nbval(nbval_run):
    _, proc = nbval_run
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ passed", proc.stdout) and "failed" not in proc.stdout.splitlines()[-1]


def test_nbval_summaries_match_independent_computations(nbval_run, sample_dir):
    work, proc = nbval_run
    assert proc.returncode == 0, proc.stdout[-4000:]
    check_summaries(work / "summaries", sample_dir)


def test_report_end_to_end_on_the_sample(sample_dir, tmp_path, capsys):
    """The whole report on the sample with hostile channel, SKU, category and event names (markup, `>`,
    quotes, `,`, `;`, Chinese): every page made, right figures, no customer id, no live markup."""
    sample_dir = make_hostile_copy(sample_dir, tmp_path / "hostile")
    config = {"data_dir": str(sample_dir), "notebooks_dir": str(ROOT / "notebooks"), "timeout": 1200,
              "notebooks": {nb.stem: {"parameters": quick_overrides(nb)} for nb in NOTEBOOKS if quick_overrides(nb)}}
    (tmp_path / "report.yaml").write_text(yaml.safe_dump(config))
    code = main(["report", "--config", str(tmp_path / "report.yaml"), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0, out
    run = latest_run(tmp_path / "out")
    assert run is not None and f"Report: {run / 'index.html'}" in out
    for i, notebook in enumerate(NOTEBOOKS, start=1):
        assert f"[{i}/{len(NOTEBOOKS)}] {notebook.stem} ... " in out
    index = (run / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "ok" and len(manifest["notebooks"]) == len(NOTEBOOKS)
    for notebook in NOTEBOOKS:
        assert f'href="{notebook.stem}.html"' in index and (run / f"{notebook.stem}.html").is_file()
    check_summaries(run / "summaries", sample_dir)
    check_no_customer_ids(run, sample_dir)
    check_no_live_markup(run)


def check_no_live_markup(run: Path) -> None:
    """The hostile names appear on the pages only escaped, as text (and they do appear)."""
    pages = {p.name: p.read_text(encoding="utf-8") for p in run.glob("*.html")}
    for name, text in pages.items():
        live = [m for m in LIVE if m in text]
        assert not live, f"{name} writes data as live markup: {live}"
    for name in ("00_data_overview.html", "01_channel_performance.html"):
        assert "&lt;img src=x onerror=alert(1)&gt;" in pages[name], name
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in pages["03_channel_attribution.html"]


def check_no_customer_ids(run: Path, sample_dir: Path) -> None:
    """No page of the report shows a customer id of the sample (privacy: PIPL/GDPR)."""
    orders = pd.read_parquet(sample_dir / "orders.parquet", columns=["customer_id"])
    ids = set(orders["customer_id"].dropna().astype(str))
    assert len(ids) > 100
    for page in [*run.glob("*.html")]:
        text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", page.read_text(encoding="utf-8"))
        leaked = ids & set(re.findall(r"[A-Za-z0-9_\-]+", text))
        assert not leaked, f"{page.name} shows customer ids, e.g. {sorted(leaked)[:3]}"
