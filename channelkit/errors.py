"""One exception hierarchy for channelkit.

Every error a user can cause derives from :class:`ChannelkitError`, so scheduled jobs can catch
one class, and the CLI turns it into a plain message and a non-zero exit code.
"""
from __future__ import annotations


class ChannelkitError(Exception):
    """Base class of every error channelkit raises on purpose."""

    exit_code: int = 1


class DataValidationError(ChannelkitError):
    """A table broke the data contract. The message lists every problem found, not just the first."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class MissingTableError(ChannelkitError):
    """An analysis needs an optional table that the dataset does not have."""


class ConfigError(ChannelkitError):
    """A report config or a command-line argument is wrong; nothing was run."""

    exit_code = 2


class NotebookExecutionError(ChannelkitError):
    """A notebook raised while a report ran. Names the notebook, the cell and the error."""

    def __init__(self, notebook: str, cell_index: int | None, ename: str, evalue: str) -> None:
        where = f"cell {cell_index}" if cell_index is not None else "an unknown cell"
        super().__init__(f"{notebook} failed in {where}: {ename}: {evalue}")
        self.notebook = notebook
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue


class InputError(ChannelkitError):
    """An engine got arguments or frames it cannot work with (wrong columns, bad options)."""


class MissingDependencyError(ChannelkitError):
    """An optional dependency is not installed; the message names the extra to install."""
