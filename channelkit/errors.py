"""One exception hierarchy for channelkit.

Every error a user can cause derives from :class:`ChannelkitError`, so scheduled jobs can catch
one class, and the CLI turns it into a plain message and a non-zero exit code.
"""
from __future__ import annotations


class ChannelkitError(Exception):
    """Base class of every error channelkit raises on purpose."""

    exit_code: int = 1


class DataValidationError(ChannelkitError):
    """A table broke the data contract. The message lists every problem found, not just the first.

    Exit code 2 (bad input) when a command stops on it; `channelkit validate` itself reports the
    problems and exits 1, as it documents.
    """

    exit_code = 2

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class MissingTableError(ChannelkitError):
    """An analysis needs an optional table that the dataset does not have (exit code 2: bad input)."""

    exit_code = 2


class ConfigError(ChannelkitError):
    """A report config or a command-line argument is wrong; nothing was run."""

    exit_code = 2


class NotebookExecutionError(ChannelkitError):
    """A notebook raised while a report ran. Names the notebook, the cell and the error.

    ``execution_count`` is the number the saved (executed) notebook shows beside the cell,
    ``In [n]``; ``cell_index`` is the cell's 0-based position in the source notebook.
    """

    def __init__(self, notebook: str, cell_index: int | None, ename: str, evalue: str,
                 execution_count: int | None = None) -> None:
        if execution_count is not None:
            where = f"cell In [{execution_count}]"
        else:
            where = f"cell {cell_index}" if cell_index is not None else "an unknown cell"
        super().__init__(f"{notebook} failed in {where}: {ename}: {evalue}")
        self.notebook = notebook
        self.cell_index = cell_index
        self.execution_count = execution_count
        self.ename = ename
        self.evalue = evalue


class ReportFailedError(ChannelkitError):
    """One or more notebooks of a report failed; every failure is listed, one per line."""

    def __init__(self, failures: list[NotebookExecutionError], run_dir: object = None, total: int = 0) -> None:
        lines = "\n".join(f"  {f}" for f in failures)
        where = f"; run kept in {run_dir}" if run_dir is not None else ""
        super().__init__(f"{len(failures)} of {total or len(failures)} notebook(s) failed{where}, "
                         f"`latest` not switched:\n{lines}")
        self.failures = list(failures)
        self.run_dir = run_dir


class OutputError(ChannelkitError):
    """An output could not be written (full disk, read-only folder); the previous file is unchanged."""


class InputError(ChannelkitError):
    """An engine got arguments or frames it cannot work with (wrong columns, bad options), or an input
    file cannot be read. Exit code 2, as for bad command-line options: the user must change the input."""

    exit_code = 2


class MissingDependencyError(ChannelkitError):
    """An optional dependency is not installed; the message names the extra to install."""
