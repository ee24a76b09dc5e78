"""Report pipeline: run the notebooks with papermill, render HTML, index and manifest.

One module per job: ``config`` (YAML config and its checks), ``parameters`` (what each notebook
receives), ``execute`` (papermill under a time limit), ``render`` (HTML without code),
``summary`` (the JSON each notebook writes), ``index`` (the front page), ``manifest`` (what a run
used) and ``runner`` (orchestration and the ``latest`` switch). The names below are imported
lazily, so a notebook that only calls ``write_summary`` does not load nbconvert.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ReportConfig": "config", "load_config": "config", "parse_config": "config",
    "execute_notebook": "execute", "render_notebook": "render", "write_summary": "summary",
    "read_summary": "summary", "run_report": "runner", "latest_run": "runner", "RunResult": "runner",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"channelkit.report.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'channelkit.report' has no attribute {name!r}")
