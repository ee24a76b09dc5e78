"""Data values reach pages only escaped: Markdown text and Styler tables (whatever formatting follows)."""
from __future__ import annotations

import re

import pandas as pd
from IPython.display import Markdown
from nbconvert.filters.markdown import markdown2html

from channelkit.report.escape import escape_frame, escape_text, safe_table

HOSTILE = ['<img src=x onerror=alert(1)>', 'a "quoted" & \'single\'', "[click](javascript:alert(1))", "天猫>旗舰店", "a_b*c*"]


def live_markup(page: str) -> list[str]:
    """Tags or links that the hostile names would create if they were not escaped."""
    return re.findall(r"<img|onerror=alert\(1\)>|href=\"javascript|<em>|<strong>b|<em>c", page)


def test_escape_text_shows_every_name_literally_in_markdown():
    assert escape_text("<b>a_b</b>") == "&lt;b&gt;a\\_b&lt;/b&gt;"
    for name in HOSTILE:
        rendered = markdown2html(Markdown(f"**Answer.** {escape_text(name)} grew most").data)
        assert not live_markup(rendered), rendered
    rendered = markdown2html(f"x {escape_text(HOSTILE[0])} y")
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered  # shown as the text it is
    assert "天猫&gt;旗舰店" in markdown2html(escape_text("天猫>旗舰店"))


def test_safe_table_survives_later_formatting():
    frame = pd.DataFrame({"channel": HOSTILE, "revenue": [1234.5, 2.0, 3.0, 4.0, 5.0],
                          "kind": pd.Categorical(["<b>x</b>"] * 5)},
                         index=pd.Index(HOSTILE, name="sku"))
    styled = safe_table(frame).hide(axis="index").format({"revenue": "{:,.0f}"}, na_rep="n/a").to_html()
    assert "<img" not in styled and "&lt;img src=x onerror=alert(1)&gt;" in styled and "1,234" in styled
    assert "<b>x</b>" not in styled and "&lt;b&gt;x&lt;/b&gt;" in styled
    shown_index = safe_table(frame).format("{:,.1f}", subset=["revenue"]).to_html()
    assert "<img" not in shown_index
    plain = frame.style.format({"revenue": "{:,.0f}"}).to_html()  # what the notebooks did before
    assert "<img src=x onerror=alert(1)>" in plain
    assert escape_frame(frame)["revenue"].tolist() == frame["revenue"].tolist()  # numbers untouched
