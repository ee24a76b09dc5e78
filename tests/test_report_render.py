"""HTML pages, the index and the manifest, on notebooks built here (no kernel needed)."""
from __future__ import annotations

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402

from channelkit.report.index import PageEntry, build_index, format_figure  # noqa: E402
from channelkit.report.manifest import data_fingerprint, git_commit, package_versions, read_manifest, write_manifest  # noqa: E402
from channelkit.report.render import render_notebook  # noqa: E402


def _png() -> str:
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([1, 2, 3])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def executed_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('data_dir = "secret/path/params"')
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell('data_dir = "/injected/path"')
    injected.metadata["tags"] = ["injected-parameters"]
    chart = nbformat.v4.new_code_cell("plot_the_thing()", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: very noisy\n"),
        nbformat.v4.new_output("stream", name="stdout", text="Visible printed finding\n"),
        nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"}),
    ])
    hidden = nbformat.v4.new_markdown_cell("Analyst-only note")
    hidden.metadata["tags"] = ["remove-cell"]
    nb.cells = [params, injected, nbformat.v4.new_markdown_cell("# Scorecard\n\nRevenue rose."), chart, hidden]
    return nb


def test_page_has_no_code_embeds_images_and_fetches_nothing(tmp_path):
    path = tmp_path / "01_x.ipynb"
    nbformat.write(executed_notebook(), path)
    html = render_notebook(path, tmp_path / "01_x.html", title="Scorecard", banner='<a href="index.html">index</a>') \
        .read_text()
    assert "Revenue rose." in html and "Visible printed finding" in html
    assert "plot_the_thing" not in html and "secret/path/params" not in html and "/injected/path" not in html
    assert "very noisy" not in html and "Analyst-only note" not in html
    assert 'class="jp-CodeMirrorEditor' not in html and 'class="highlight' not in html and "¶" not in html and not re.search(r">\s*(?:In|Out)(?:&nbsp;|\s)?\[", html)
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html)
    assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="https?://', html)
    assert "<title>Scorecard</title>" in html and 'href="index.html"' in html


def test_figures_are_formatted_for_managers():
    assert format_figure("total_revenue", 1234567.891) == "1,234,568"
    assert format_figure("revenue_share", 0.256) == "25.6%"
    assert format_figure("revenue_growth_yoy", 0.071) == "+7.1%"
    assert format_figure("repeat_rate", None) == "n/a"
    assert format_figure("roas", 2.345) == "2.35"
    assert format_figure("skus_at_risk", 11) == "11"
    assert format_figure("period_start", "2025-12-01") == "2025-12-01"


def test_index_links_pages_and_escapes_text():
    entries = [PageEntry(name="Scorecard", status="ok", duration_s=4.2, html="01_x.html",
                         summary={"headline": "Revenue <up> 7%", "figures": {"total_revenue": 1000.0},
                                  "bullets": ["tmall: 1k"]}),
               PageEntry(name="Forecast", status="failed", error="02_y failed in cell 3: ValueError: bad")]
    html = build_index(entries, meta={"run": "20250101-000000", "period": "2025"})
    assert 'href="01_x.html"' in html and "Revenue &lt;up&gt; 7%" in html and "<li>tmall: 1k</li>" in html
    assert "1,000" in html and "4.2 s" in html and "02_y failed in cell 3: ValueError: bad" in html
    assert "run: 20250101-000000" in html and "<script" not in html


def test_fingerprint_changes_with_any_file(tmp_path):
    (tmp_path / "orders.csv").write_text("a,b\n1,2\n")
    (tmp_path / ".hidden").write_text("ignored")
    first = data_fingerprint(tmp_path)
    assert [f["path"] for f in first["files"]] == ["orders.csv"] and first["files"][0]["bytes"] == 8
    # The sha256 of "a,b\n1,2\n", worked out independently of the function.
    assert first["files"][0]["sha256"] == __import__("hashlib").sha256(b"a,b\n1,2\n").hexdigest()
    (tmp_path / "orders.csv").write_text("a,b\n1,3\n")
    assert data_fingerprint(tmp_path)["sha256"] != first["sha256"]


def test_manifest_round_trip_versions_and_git(tmp_path):
    versions = package_versions(["papermill", "surely-not-installed-pkg"])
    assert versions["papermill"] == __import__("papermill").__version__ and versions["surely-not-installed-pkg"] is None
    assert git_commit(tmp_path) is None  # not a git work tree
    write_manifest(tmp_path / "manifest.json", {"run_id": "r1", "status": "ok"})
    assert read_manifest(tmp_path) == {"run_id": "r1", "status": "ok"}


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_figures_show_as_na(value):
    assert format_figure("total_revenue", value) == "n/a"
