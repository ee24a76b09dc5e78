"""The report's front page: one ``index.html`` linking every page with its executive summary.

The summary of each notebook comes from the JSON it wrote through
:func:`channelkit.report.summary.write_summary`, never from scraping its HTML. The page is one
self-contained file (inline CSS, no scripts).
"""
from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Figure names shown as percentages: shares, rates, growth and percentage errors are stored as
# fractions (0.12 = 12%) by convention.
_PERCENT_NAME = re.compile(r"(share|rate|growth|pct|percent|mape|wape|smape|margin_ratio)", re.IGNORECASE)

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;
 color:#222;max-width:980px;margin:24px auto;padding:0 16px}
h1{font-size:24px;margin-bottom:4px} .meta{color:#666;font-size:13px;margin-bottom:20px}
.card{border:1px solid #ddd;border-radius:8px;padding:14px 18px;margin:14px 0}
.card h2{font-size:18px;margin:0 0 6px} .card h2 a{color:#1f5fa8;text-decoration:none}
.headline{font-weight:600;margin:4px 0 8px} .status{float:right;font-size:12px;color:#666}
.failed{border-color:#c0392b} .failed .status{color:#c0392b;font-weight:600}
table{border-collapse:collapse;font-size:14px} td{padding:2px 14px 2px 0}
td.v{text-align:right;font-variant-numeric:tabular-nums}
ul{margin:6px 0 0 18px;padding:0}
"""


@dataclass
class PageEntry:
    """One notebook of a run as the index shows it."""

    name: str
    status: str  # "ok" or "failed"
    duration_s: float | None = None
    html: str | None = None  # path relative to index.html
    summary: Mapping[str, Any] | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def format_figure(name: str, value: Any) -> str:
    """Format one summary figure for the index: percentages for shares/rates/growth, thousands
    separators for amounts, ``n/a`` for missing values."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if _PERCENT_NAME.search(name):
        return f"{value:+.1%}" if "growth" in name.lower() else f"{value:.1%}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def _label(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _card(entry: PageEntry) -> str:
    title = html.escape(entry.name.replace("_", " "))
    heading = f'<a href="{html.escape(entry.html)}">{title}</a>' if entry.html else title
    took = f" · {entry.duration_s:.1f} s" if entry.duration_s is not None else ""
    parts = [f'<div class="card{" failed" if entry.status != "ok" else ""}">',
             f'<span class="status">{html.escape(entry.status)}{took}</span><h2>{heading}</h2>']
    if entry.error:
        parts.append(f'<p class="headline">{html.escape(entry.error)}</p>')
    summary = entry.summary or {}
    if summary.get("headline"):
        parts.append(f'<p class="headline">{html.escape(str(summary["headline"]))}</p>')
    figures = summary.get("figures") or {}
    if figures:
        rows = "".join(f'<tr><td>{html.escape(_label(k))}</td><td class="v">{html.escape(format_figure(k, v))}</td></tr>'
                       for k, v in figures.items())
        parts.append(f"<table>{rows}</table>")
    bullets = summary.get("bullets") or []
    if bullets:
        parts.append("<ul>" + "".join(f"<li>{html.escape(str(b))}</li>" for b in bullets) + "</ul>")
    if entry.status == "ok" and not summary:
        parts.append('<p class="meta">This notebook wrote no summary.</p>')
    parts.append("</div>")
    return "\n".join(parts)


def build_index(entries: Sequence[PageEntry], *, title: str = "channelkit report",
                meta: Mapping[str, Any] | None = None) -> str:
    """The HTML text of the index page: a header with ``meta`` (e.g. run id, data, period) and one
    card per notebook in run order."""
    meta_text = " · ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in (meta or {}).items()
                           if v not in (None, ""))
    cards = "\n".join(_card(e) for e in entries)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>'
            f'<body><h1>{html.escape(title)}</h1><div class="meta">{meta_text}</div>\n{cards}\n</body></html>\n')


def write_index(path: str | Path, entries: Sequence[PageEntry], *, title: str = "channelkit report",
                meta: Mapping[str, Any] | None = None) -> Path:
    """Write :func:`build_index` to ``path`` and return it."""
    path = Path(path)
    path.write_text(build_index(entries, title=title, meta=meta), encoding="utf-8")
    return path
