"""channelkit: a research and forecasting workbench for multi-channel sellers.

The package is layered (see docs/architecture.md): ``channelkit.data`` (contract, loaders,
sample generator) at the bottom, ``channelkit.metrics`` and the engines above it, and
``channelkit.report`` (papermill runner) on top. Import the engines from their modules;
this package re-exports only the handful of names every notebook uses.
"""
from __future__ import annotations

__version__ = "0.1.0"

from channelkit.errors import (  # noqa: E402
    ChannelkitError,
    ConfigError,
    DataValidationError,
    InputError,
    MissingTableError,
    NotebookExecutionError,
)

__all__ = [
    "__version__",
    "ChannelkitError",
    "ConfigError",
    "DataValidationError",
    "InputError",
    "MissingTableError",
    "NotebookExecutionError",
]
