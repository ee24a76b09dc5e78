"""The executive summary a notebook hands to the report index.

A notebook ends with one call::

    write_summary("01_channel_performance", headline="Revenue up 12% on last year",
                  figures={"total_revenue": 1.2e6, "revenue_growth_yoy": 0.12})

The report runner sets ``CHANNELKIT_SUMMARY_DIR`` for each run; the index page reads the JSON
files from there instead of scraping HTML. Run by hand (JupyterLab), the summary goes to
``outputs/adhoc/`` so an analyst can look at it too.
"""
from __future__ import annotations

import json
import math
import os
from numbers import Number
from pathlib import Path

SUMMARY_DIR_ENV = "CHANNELKIT_SUMMARY_DIR"


def summary_dir() -> Path:
    """Where summaries go: ``$CHANNELKIT_SUMMARY_DIR`` or ``outputs/adhoc``."""
    return Path(os.environ.get(SUMMARY_DIR_ENV, "outputs/adhoc"))


def _plain(value: object) -> object:
    """JSON-safe scalar: numpy numbers to Python, NaN to None."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, Number):
        return float(value)
    return str(value)


def write_summary(
    notebook: str,
    *,
    headline: str,
    figures: dict[str, object],
    bullets: list[str] | None = None,
    directory: str | Path | None = None,
) -> Path:
    """Write ``<notebook>.summary.json`` with a headline, key figures and optional bullet points.

    ``figures`` maps a name to a scalar (numbers are stored as plain floats/ints, NaN as null).
    Returns the path written.
    """
    out = Path(directory) if directory is not None else summary_dir()
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "notebook": notebook,
        "headline": headline,
        "figures": {str(k): _plain(v) for k, v in figures.items()},
        "bullets": list(bullets or []),
    }
    path = out / f"{notebook}.summary.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def read_summary(path: str | Path) -> dict:
    """Read a summary JSON written by :func:`write_summary`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
