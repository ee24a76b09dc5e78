"""Values from the data, made safe to put on a page.

A channel, SKU, category or event name is text the seller's exports (or anyone who can name a
product on a marketplace) chose, so it may hold markup such as ``<img src=x onerror=alert(1)>``.
Rendered pages show Styler tables and Markdown as HTML, and neither escapes on its own: a pandas
Styler writes its cells as they are (and a later ``.format({...})`` call drops any ``escape=``
given before), and Markdown passes HTML through. Every data value therefore goes through one of:

- :func:`escape_text` for a value put into Markdown or HTML (``display(Markdown(f"... {escape_text(name)} ..."))``):
  Markdown's punctuation is backslash-escaped (no link, emphasis or code span can be made) and then
  ``&``, ``<``, ``>``, ``"`` and ``'`` become entities (``html.escape``);
- :func:`safe_table` instead of ``frame.style``: the frame's text cells and index labels are
  escaped with ``html.escape`` *in the data*, so whatever formatting follows shows them as text.

Plain DataFrames displayed as they are need nothing: pandas escapes them (``to_html(escape=True)``).
"""
from __future__ import annotations

import html
import re

import pandas as pd
from pandas.io.formats.style import Styler

# ASCII punctuation that Markdown gives a meaning to and that html.escape leaves alone.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape_text(value: object) -> str:
    """``value`` as text that Markdown and HTML show literally (see the module docstring).

    ``escape_text("<b>a_b</b>")`` gives ``"&lt;b&gt;a\\_b&lt;/b&gt;"``; line breaks become spaces.
    """
    text = " ".join(str(value).splitlines())
    return html.escape(_MARKDOWN.sub(r"\\\1", text), quote=True)


def _escape_values(values: pd.Series | pd.Index) -> pd.Series | pd.Index:
    if isinstance(values, pd.MultiIndex):
        return values.set_levels([_escape_values(level) for level in values.levels])
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.rename_categories([html.escape(str(c)) for c in values.cat.categories])
    if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
        return values.map(lambda v: html.escape(v) if isinstance(v, str) else v)
    return values


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and index labels are HTML-escaped (numbers, dates untouched)."""
    out = frame.copy()
    for i in range(out.shape[1]):
        out.isetitem(i, _escape_values(out.iloc[:, i]))
    out.index = _escape_values(out.index)
    return out


def safe_table(frame: pd.DataFrame) -> Styler:
    """``frame.style`` over :func:`escape_frame` (use it wherever a notebook would write ``frame.style``)."""
    return escape_frame(frame).style
