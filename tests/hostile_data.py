"""A copy of the sample whose channel, SKU, category and event names are hostile.

Markup that would run if a page wrote it live, the attribution path separator ``>``, quotes,
``,``, ``;`` and Chinese. Names the notebooks use on purpose (``tmall``, ``SKU-0001``, the
festivals) keep theirs; every other file, ``truth.json`` included, is renamed consistently.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

EVENT_PREFIX = "<iframe src=javascript:alert(5)>"
RENAME = {
    "channel": {"jd": "<img src=x onerror=alert(1)>", "douyin_live": '抖音 "直播", 店; a>b',
                "kol": "<script>alert(2)</script>", "social": "达人>主播, \"KOL\"; 'x'"},
    "sku": {"SKU-0002": "<b onmouseover=alert(3)>SKU-2</b>"},
    "category": {"snacks": "<svg onload=alert(4)>"},
}
# The markup a page must never contain as it is (it would run), and the form it must show instead.
LIVE = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>", "<b onmouseover=alert(3)>",
        "<svg onload=alert(4)>", "<iframe src=javascript:alert(5)>"]


def _rename(frame: pd.DataFrame) -> pd.DataFrame:
    for column, names in RENAME.items():
        if column in frame.columns:
            frame[column] = frame[column].astype(object).replace(names)
    if {"event", "kind"} <= set(frame.columns):  # promotions and holidays; festivals are named in code
        named = frame["kind"].isin(["promotion", "holiday"])
        frame.loc[named, "event"] = EVENT_PREFIX + frame.loc[named, "event"].astype(str)
    return frame


def make_hostile_copy(src: Path, dst: Path) -> Path:
    """Copy the sample folder ``src`` to ``dst`` with the names of :data:`RENAME` (and events) replaced."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir():
        if path.suffix == ".csv":
            _rename(pd.read_csv(path, dtype=str, keep_default_na=False)).to_csv(dst / path.name, index=False)
        elif path.suffix == ".parquet":
            _rename(pd.read_parquet(path)).to_parquet(dst / path.name, index=False)
        elif path.name == "truth.json":
            text = path.read_text(encoding="utf-8")
            for names in RENAME.values():
                for old, new in names.items():
                    text = text.replace(json.dumps(old), json.dumps(new, ensure_ascii=False))
            (dst / path.name).write_text(text, encoding="utf-8")
        elif path.is_file():
            shutil.copy2(path, dst / path.name)
    return dst
