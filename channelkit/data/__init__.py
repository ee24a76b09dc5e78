"""The data layer: the contract, loaders, validation and the derived sales panel.

    from channelkit.data import load_dataset, daily_sales
    ds = load_dataset("data/sample")            # DataValidationError lists every problem
    panel = daily_sales(ds, freq="D")           # date x sku x channel

Names are imported on first use, so ``import channelkit.data.calendar`` stays light (pandera is
only imported when a dataset is checked).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "load_dataset": "channelkit.data.loaders",
    "read_table": "channelkit.data.loaders",
    "read_file": "channelkit.data.loaders",
    "detect_encoding": "channelkit.data.loaders",
    "read_mapping": "channelkit.data.mapping",
    "TableMapping": "channelkit.data.mapping",
    "Dataset": "channelkit.data.dataset",
    "DatasetSummary": "channelkit.data.dataset",
    "daily_sales": "channelkit.data.panel",
    "validate_dataset": "channelkit.data.validation",
    "format_problems": "channelkit.data.validation",
    "Problem": "channelkit.data.validation",
    "table_schema": "channelkit.data.schemas",
    "TABLES": "channelkit.data.contract",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from channelkit.data.contract import TABLES
    from channelkit.data.dataset import Dataset, DatasetSummary
    from channelkit.data.loaders import detect_encoding, load_dataset, read_file, read_table
    from channelkit.data.mapping import TableMapping, read_mapping
    from channelkit.data.panel import daily_sales
    from channelkit.data.schemas import table_schema
    from channelkit.data.validation import Problem, format_problems, validate_dataset


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'channelkit.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
