"""Render an executed notebook to one self-contained HTML page a manager can read offline.

nbconvert's ``lab`` template with the code hidden (no input cells, no prompts) and images embedded
as base64, so the page opens from an e-mail attachment. What a reader should not see is removed:
the parameters cells, stderr output (library warnings, progress bars, Stan chatter) and cells
tagged ``remove-cell`` / outputs tagged ``remove-output``. The template's CDN scripts (MathJax,
require.js, mermaid) are dropped: the pages use none of them and must not fetch anything.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

HIDDEN_CELL_TAGS = ("parameters", "injected-parameters", "remove-cell")
HIDDEN_OUTPUT_TAGS = ("remove-output",)
_EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*?</script>\s*",
                              re.DOTALL | re.IGNORECASE)
_EXTERNAL_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.IGNORECASE)
_BANNER_CSS = (
    "<style>.ck-banner{font:13px system-ui,sans-serif;color:#555;border-bottom:1px solid #ddd;"
    "padding:8px 16px;margin-bottom:8px}.ck-banner a{color:#1f5fa8}</style>"
)


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without parameters cells, stderr streams and cells/outputs tagged to hide."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    remover = TagRemovePreprocessor(
        remove_cell_tags=set(HIDDEN_CELL_TAGS), remove_all_outputs_tags=set(HIDDEN_OUTPUT_TAGS)
    )
    nb, _ = remover.preprocess(nb, {})
    return nb


def to_html(nb: nbformat.NotebookNode, *, title: str, banner: str | None = None) -> str:
    """The HTML text of ``nb``: no code, no prompts, embedded images, no external scripts.

    ``banner`` (HTML) is put at the top of the page, e.g. a link back to the report index.
    """
    exporter = HTMLExporter(
        template_name="lab", exclude_input=True, exclude_input_prompt=True,
        exclude_output_prompt=True, embed_images=True, exclude_anchor_links=True,
    )
    body, _ = exporter.from_notebook_node(clean_notebook(nb), resources={"metadata": {"name": title}})
    body = _EXTERNAL_SCRIPT_SRC.sub("", body)
    body = _EXTERNAL_SCRIPT.sub("", body)
    if banner:
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _BANNER_CSS + f'<div class="ck-banner">{banner}</div>',
                      body, count=1)
    return body


def render_notebook(executed: str | Path, html_path: str | Path, *, title: str | None = None,
                    banner: str | None = None) -> Path:
    """Render the executed notebook ``executed`` to ``html_path`` and return ``html_path``.

    ``title`` defaults to the notebook's file stem with underscores as spaces.
    """
    executed, html_path = Path(executed), Path(html_path)
    nb = nbformat.read(executed, as_version=4)
    title = title or executed.stem.replace("_", " ")
    html_path.write_text(to_html(nb, title=html.escape(title), banner=banner), encoding="utf-8")
    return html_path
