"""Which parameters each notebook gets: the common ones it declares, plus its own overrides.

A notebook declares its parameters in its first cell tagged ``parameters``; papermill's
``inspect_notebook`` reads them without running anything. The runner passes a common parameter
(``data_dir``, ``start``, ``end``, ``currency``, ``channels``, ``horizon``) only when the notebook
declares it, so a notebook without a forecast never receives ``horizon``. A per-notebook override
whose name the notebook does not declare is a typo: it is refused before anything runs, as papermill's
own CLI warns about (but still injects) unknown names.
"""
from __future__ import annotations

import ast
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import papermill

from channelkit.errors import ConfigError
from channelkit.report.config import ReportConfig


def _assigned_names(notebook: Path) -> list[str]:
    """Names assigned at the top level of the notebook's first cell tagged ``parameters``.

    papermill's own parser skips a line with a second ``=`` (e.g. in a comment such as
    ``start = None  # None = all history``); Python's parser does not.
    """
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                return []
            names = []
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else \
                    [node.target] if isinstance(node, ast.AnnAssign) else []
                names.extend(t.id for t in targets if isinstance(t, ast.Name))
            return names
    return []


def declared_parameters(notebook: str | Path) -> dict[str, dict[str, Any]]:
    """The parameters ``notebook`` declares: ``{name: {"default": ..., "inferred_type_name": ..., "help": ...}}``.

    From ``papermill.inspect_notebook``, completed with any other name the parameters cell
    assigns (papermill's line parser misses some). Empty when no cell is tagged ``parameters``.
    """
    # papermill logs a warning for a line it cannot parse; the names are recovered below.
    log = logging.getLogger("papermill")
    level, log.level = log.level, logging.ERROR
    try:
        declared = dict(papermill.inspect_notebook(str(notebook)))
    except ValueError:  # no kernelspec in the notebook: the runner supplies the kernel anyway
        declared = {}
    finally:
        log.setLevel(level)
    for name in _assigned_names(Path(notebook)):
        declared.setdefault(name, {"name": name, "default": None, "inferred_type_name": "None", "help": ""})
    return declared


def parameters_for(notebook: str | Path, config: ReportConfig) -> dict[str, Any]:
    """The parameters the runner passes to ``notebook``: declared common parameters + its overrides.

    Raises :class:`ConfigError` when an override names a parameter the notebook does not declare.
    """
    path = Path(notebook)
    declared = declared_parameters(path)
    overrides = config.overrides_for(path.stem)
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none (no cell tagged 'parameters')"
        raise ConfigError(
            f"notebooks.{path.stem}.parameters names {', '.join(map(repr, unknown))}, which "
            f"{path.name} does not declare (it declares: {known})"
        )
    common = {k: v for k, v in config.common_parameters().items() if k in declared}
    return {**common, **overrides}


def plan_parameters(notebooks: Sequence[Path], config: ReportConfig) -> dict[str, dict[str, Any]]:
    """Parameters for every notebook of a run, checked before the first one executes.

    Also refuses settings for a notebook that does not exist in the notebooks folder.
    """
    problems: list[str] = []
    names = {p.stem for p in notebooks}
    all_names = {p.stem for p in config.notebooks_dir.glob("*.ipynb")} | names
    for name in config.notebooks:
        if name not in all_names:
            problems.append(f"notebooks.{name} names no notebook in {config.notebooks_dir} "
                            f"(notebooks: {', '.join(sorted(all_names)) or 'none'})")
    plan: dict[str, dict[str, Any]] = {}
    for path in notebooks:
        try:
            plan[path.stem] = parameters_for(path, config)
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("; ".join(problems) if len(problems) == 1 else
                          f"{len(problems)} problems:\n  - " + "\n  - ".join(problems))
    return plan
