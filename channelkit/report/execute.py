"""Run one notebook with papermill under a time limit, and turn its failures into one clear error.

Whatever happens, the executed notebook is written to ``output_path`` (papermill saves it after
each cell and once more at the end, with its banner pointing at the failing cell), so a failed
run can be opened and debugged.
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from channelkit.errors import NotebookExecutionError

# Environment for the kernel: no warnings spam in the pages, a non-interactive matplotlib backend
# for anything not shown inline, and no progress bars (tqdm honours TQDM_DISABLE).
QUIET_KERNEL_ENV = {"PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"}


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set ``env`` for the duration of the block (the kernel inherits it), then restore."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _source_cell_index(output_path: Path, executed_index: int | None) -> int | None:
    """Index of a cell in the *source* notebook, undoing papermill's injected-parameters cell."""
    if executed_index is None or not output_path.is_file():
        return executed_index
    cells = nbformat.read(output_path, as_version=4).cells
    injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    return executed_index - 1 if injected and injected[0] < executed_index else executed_index


def execute_notebook(
    input_path: str | Path,
    output_path: str | Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    timeout: float = 1800.0,
    kernel: str = "channelkit",
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    start_timeout: float = 120.0,
) -> Path:
    """Execute ``input_path`` into ``output_path`` with papermill; return ``output_path``.

    ``timeout`` is the time limit of the whole notebook in seconds: each cell may run only as long
    as the notebook's remaining budget (nbclient's ``timeout_func``). ``env`` is added to the
    kernel's environment on top of :data:`QUIET_KERNEL_ENV`.

    Raises :class:`NotebookExecutionError` naming the notebook, the cell (as the saved notebook
    numbers it, ``In [n]``; its 0-based index in the source notebook is ``cell_index``) and the
    error when a cell raises, the time limit passes, or the kernel dies or cannot start.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    name = input_path.stem
    deadline = time.monotonic() + timeout

    def remaining(cell: Any) -> int:
        return max(1, math.ceil(deadline - time.monotonic()))

    try:
        with _environment({**QUIET_KERNEL_ENV, **(env or {})}):
            papermill.execute_notebook(
                str(input_path), str(output_path), parameters=dict(parameters or {}), kernel_name=kernel,
                progress_bar=False, log_output=False, cwd=str(cwd) if cwd else None,
                start_timeout=start_timeout, timeout_func=remaining,
            )
    except PapermillExecutionError as exc:
        cell = _source_cell_index(output_path, exc.cell_index)
        raise NotebookExecutionError(name, cell, exc.ename, _first_line(exc.evalue), exc.exec_count) from None
    except CellTimeoutError:
        running = _timed_out_cell(output_path)
        raise NotebookExecutionError(name, _source_cell_index(output_path, running), "TimeoutError",
                                     f"the notebook ran past its time limit of {timeout:g} s",
                                     _execution_count(output_path, running)) from None
    except DeadKernelError as exc:
        raise NotebookExecutionError(name, None, "DeadKernelError", _first_line(str(exc))) from None
    except (RuntimeError, TimeoutError, OSError) as exc:  # the kernel did not start or answer
        raise NotebookExecutionError(name, None, type(exc).__name__, _first_line(str(exc))) from None
    return output_path


def _execution_count(output_path: Path, index: int | None) -> int | None:
    """The ``In [n]`` number the saved notebook shows for cell ``index``."""
    if index is None or not output_path.is_file():
        return None
    cells = nbformat.read(output_path, as_version=4).cells
    return cells[index].get("execution_count") if index < len(cells) else None


def _timed_out_cell(output_path: Path) -> int | None:
    """The executed notebook's cell that was running when the time limit passed."""
    if not output_path.is_file():
        return None
    cells = nbformat.read(output_path, as_version=4).cells
    # papermill marks every cell "completed" in a finally clause; the running one is the last
    # that has a start time.
    started = [i for i, c in enumerate(cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _first_line(text: str, limit: int = 300) -> str:
    """The first non-empty line of an error value, shortened for a one-line message."""
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."
