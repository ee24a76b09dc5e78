"""Run a whole report: every notebook in name order, into a folder that becomes ``latest`` only
when all of them succeeded. A notebook that fails does not stop the others: every page that can
be made is made, and the run ends with one error naming every failed notebook, cell and error.

Layout of a run (``out_dir`` is ``outputs/`` by default)::

    outputs/.<run id>.tmp/       while the run is under way (never read by anyone)
    outputs/<run id>/            a good run: index.html, one page per notebook, manifest.json,
                                 notebooks/ (executed .ipynb) and summaries/ (summary JSON)
    outputs/<run id>.failed/     a run that failed or was interrupted, kept for debugging
    outputs/<run id>.log         the run's log (papermill, kernels, warnings), beside the run
    outputs/latest               symlink to the last good run (a file holding its id where the
                                 system has no symlinks)

The switch of ``latest`` is an atomic rename, so a reader never sees a half-written report and a
failing or interrupted run never replaces a good one. Kernel files and temporary folders stay
inside the work folder and are removed with it; the next run sweeps what a killed run left (see
:mod:`channelkit.report.workspace`).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import nbformat

from channelkit.errors import ConfigError, NotebookExecutionError, ReportFailedError
from channelkit.report.config import ReportConfig
from channelkit.report.execute import execute_notebook
from channelkit.report.index import PageEntry, write_index
from channelkit.report.manifest import data_fingerprint, git_commit, package_versions, write_manifest
from channelkit.report.parameters import plan_parameters
from channelkit.report.render import render_notebook
from channelkit.report.summary import SUMMARY_DIR_ENV, read_summary
from channelkit.report.workspace import kernel_scratch, remove_scratch, resolve_kernel, run_lock, sweep_leftovers

LATEST = "latest"
_LOGGERS = ("channelkit", "papermill", "nbclient", "traitlets", "py.warnings", "cmdstanpy", "prophet")


@dataclass
class NotebookResult:
    """What happened to one notebook of a run."""

    name: str
    status: str = "not run"  # "ok", "failed" or "not run"
    duration_s: float | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    executed: str | None = None  # relative to the run folder
    html: str | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class RunResult:
    """A finished run: its id, final folder, status and per-notebook results."""

    run_id: str
    run_dir: Path
    status: str
    notebooks: list[NotebookResult]
    log_path: Path

    @property
    def index(self) -> Path:
        return self.run_dir / "index.html"


def discover_notebooks(notebooks_dir: str | Path, only: Sequence[str] | None = None) -> list[Path]:
    """The notebooks of a report: ``*.ipynb`` in ``notebooks_dir`` in name order.

    ``only`` keeps those whose stem, file name or number prefix (``"01"``) matches; a name that
    matches nothing is a :class:`ConfigError`.
    """
    folder = Path(notebooks_dir)
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith((".", "_")))
    if not only:
        return found
    picked, unknown = [], []
    for name in only:
        hits = [p for p in found if name in (p.stem, p.name) or p.stem.split("_", 1)[0] == name]
        picked.extend(h for h in hits if h not in picked)
        if not hits:
            unknown.append(name)
    if unknown:
        raise ConfigError(f"--only names no notebook: {', '.join(map(repr, unknown))} "
                          f"(notebooks: {', '.join(p.stem for p in found) or 'none'})")
    return sorted(picked)


def new_run_id(out_dir: Path, now: dt.datetime | None = None) -> str:
    """A run id from the UTC start time, ``YYYYmmdd-HHMMSS``, with ``-2``, ``-3`` ... if taken."""
    base = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%d-%H%M%S")
    run_id, n = base, 1
    while any((out_dir / name).exists() for name in (run_id, f".{run_id}.tmp", f"{run_id}.failed")):
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def latest_run(out_dir: str | Path) -> Path | None:
    """The folder ``outputs/latest`` points to (symlink or id file), or ``None`` before any good run."""
    link = Path(out_dir) / LATEST
    if link.is_symlink():
        return (link.parent / os.readlink(link)).resolve()
    if link.is_file():
        return (link.parent / link.read_text(encoding="utf-8").strip()).resolve()
    return None


def switch_latest(out_dir: Path, run_id: str) -> None:
    """Point ``out_dir/latest`` at ``run_id`` atomically (create + rename over the old pointer).

    Uses a relative symlink; where symlinks are unavailable, a plain file holding the run id.
    """
    tmp = out_dir / f".{LATEST}.{run_id}.tmp"
    try:
        os.symlink(run_id, tmp, target_is_directory=True)
    except (OSError, NotImplementedError):
        tmp.write_text(run_id + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / LATEST)


def notebook_title(path: Path) -> str:
    """The first level-1 markdown heading of a notebook, else its stem with spaces."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem.replace("_", " ")


@contextlib.contextmanager
def _run_logging(log_path: Path) -> Iterator[logging.Logger]:
    """Send papermill/nbclient/warnings logging to the run's log file only, not the terminal."""
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = {}
    for name in _LOGGERS:
        lg = logging.getLogger(name)
        saved[name] = (lg.level, lg.propagate)
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    logging.captureWarnings(True)
    try:
        yield logging.getLogger("channelkit.report")
    finally:
        logging.captureWarnings(False)
        for name in _LOGGERS:
            lg = logging.getLogger(name)
            lg.removeHandler(handler)
            lg.setLevel(saved[name][0])
            lg.propagate = saved[name][1]
        handler.close()


@contextlib.contextmanager
def _fds_to(log_path: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at the log while a kernel starts, so kernel chatter
    (ZMQ warnings, Stan output written straight to the descriptors) lands in the log."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # no usable descriptors (e.g. embedded); leave them alone
        yield
        return
    with open(log_path, "ab") as log:
        try:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _say(progress: TextIO | None, text: str, end: str = "\n") -> None:
    if progress is not None:
        print(text, end=end, file=progress, flush=True)


def _run_one(path: Path, params: dict[str, Any], config: ReportConfig, work: Path, log_path: Path,
             title: str, run_id: str, env: dict[str, str]) -> NotebookResult:
    """Execute and render one notebook into ``work``; raises NotebookExecutionError on failure."""
    result = NotebookResult(name=path.stem, parameters=params, executed=f"notebooks/{path.name}")
    started = time.monotonic()
    try:
        with _fds_to(log_path):
            execute_notebook(path, work / result.executed, parameters=params, timeout=config.timeout_for(path.stem),
                             kernel=config.kernel, cwd=Path.cwd(),
                             env={**env, SUMMARY_DIR_ENV: str(work / "summaries")})
        banner = f'<a href="index.html">&larr; Report index</a> &middot; run {run_id}'
        render_notebook(work / result.executed, work / f"{path.stem}.html", title=title, banner=banner)
    finally:
        result.duration_s = round(time.monotonic() - started, 2)
    result.html, result.status = f"{path.stem}.html", "ok"
    summary = work / "summaries" / f"{path.stem}.summary.json"
    result.summary = read_summary(summary) if summary.is_file() else None
    return result


def run_report(config: ReportConfig, *, only: Sequence[str] | None = None,
               progress: TextIO | None = None) -> RunResult:
    """Run every notebook of ``config.notebooks_dir`` (or those named in ``only``) and build the report.

    Parameters, overrides and the kernel are checked for every notebook before the first one runs.
    Progress lines (``[2/7] 02_demand_forecast ... 41.2 s``) go to ``progress`` (e.g.
    ``sys.stdout``; the default ``None`` is silent).
    Returns the :class:`RunResult` of a good run. A failing notebook does not stop the others; at
    the end :class:`ReportFailedError` lists every failure (notebook, cell as ``In [n]`` of the saved
    notebook, error), the run is kept as ``<run id>.failed/`` and ``latest`` is not switched.
    An interrupt (``KeyboardInterrupt``, SIGTERM) also leaves ``latest`` untouched and is re-raised.
    """
    notebooks = discover_notebooks(config.notebooks_dir, only)
    if not notebooks:
        raise ConfigError(f"no notebooks (*.ipynb) in {config.notebooks_dir}")
    plan = plan_parameters(notebooks, config)
    fallback = resolve_kernel(config.kernel)
    out = config.out_dir
    try:  # a read-only or full out_dir is a config problem, found before anything runs
        out.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=out, prefix=".check.").close()
    except OSError as exc:
        raise ConfigError(f"out_dir {str(out)!r}: cannot write there ({exc.strerror or exc})") from None
    started = dt.datetime.now(dt.timezone.utc)
    run_id = new_run_id(out, started)
    work, log_path = out / f".{run_id}.tmp", out / f"{run_id}.log"
    (work / "notebooks").mkdir(parents=True)
    results = [NotebookResult(name=p.stem, parameters=plan[p.stem]) for p in notebooks]
    titles = {p.stem: notebook_title(p) for p in notebooks}
    failures: list[NotebookExecutionError] = []
    status = "interrupted"
    with run_lock(work), _run_logging(log_path) as log:
        log.info("run %s: %d notebook(s), config %s", run_id, len(notebooks), config.source)
        sweep_leftovers(out, keep=work.name, log=log)
        if fallback:
            log.warning("kernel %r is not registered: running the notebooks on the current interpreter %s",
                        config.kernel, sys.executable)
            _say(progress, f"kernel {config.kernel!r} is not registered; using this interpreter ({sys.executable})")
        try:
            with kernel_scratch(work, fallback_kernel=fallback) as env:
                _run_all(notebooks, plan, config, work, log_path, titles, run_id, env, results, failures, progress, log)
            status = "failed" if failures else "ok"
        finally:
            remove_scratch(work)
            final = out / (run_id if status == "ok" else f"{run_id}.failed")
            _finish(work, final, config, run_id, status, started, results, titles, only, log_path)
            log.info("run %s %s; folder %s", run_id, status, final)
            if status != "ok":
                _say(progress, f"Run {status}; kept for debugging in {final} (log: {log_path}); "
                               f"{LATEST} still points to the last good run")
    if failures:
        raise ReportFailedError(failures, run_dir=final, total=len(notebooks))
    switch_latest(out, run_id)
    return RunResult(run_id=run_id, run_dir=final, status=status, notebooks=results, log_path=log_path)


def _run_all(notebooks: list[Path], plan: dict[str, dict[str, Any]], config: ReportConfig, work: Path,
             log_path: Path, titles: dict[str, str], run_id: str, env: dict[str, str],
             results: list[NotebookResult], failures: list[NotebookExecutionError], progress: TextIO | None,
             log: logging.Logger) -> None:
    """Run every notebook in turn, filling ``results`` and ``failures``; a failure does not stop the rest."""
    for i, path in enumerate(notebooks):
        _say(progress, f"[{i + 1}/{len(notebooks)}] {path.stem} ... ", end="")
        try:
            results[i] = _run_one(path, plan[path.stem], config, work, log_path, titles[path.stem], run_id, env)
        except NotebookExecutionError as exc:  # record it and go on: one failure must not hide the rest
            results[i].status, results[i].error = "failed", str(exc)
            results[i].executed = f"notebooks/{path.name}"
            failures.append(exc)
            _say(progress, "FAILED")
            log.error("%s", exc)
            continue
        _say(progress, f"{results[i].duration_s:.1f} s")
        log.info("%s ok in %.1f s", path.stem, results[i].duration_s)


def _finish(work: Path, final: Path, config: ReportConfig, run_id: str, status: str, started: dt.datetime,
            results: list[NotebookResult], titles: dict[str, str], only: Sequence[str] | None,
            log_path: Path) -> None:
    """Write index and manifest into the work folder, then rename it to its final name."""
    entries = [PageEntry(name=titles.get(r.name, r.name), status=r.status, duration_s=r.duration_s,
                         html=r.html, summary=r.summary, error=r.error) for r in results]
    period = (f"{config.start or 'start of data'} to {config.end or 'end of data'}" if config.start or config.end
              else "all data (each page states the period it scores)")
    write_index(work / "index.html", entries, title="Channel report",
                meta={"run": run_id, "status": status, "data": config.data_dir.name, "period": period,
                      "currency": config.currency})
    finished = dt.datetime.now(dt.timezone.utc)
    write_manifest(work / "manifest.json", {
        "run_id": run_id, "status": status,
        "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 2),
        "config": config.to_dict(), "only": list(only or []),
        "data": data_fingerprint(config.data_dir), "packages": package_versions(),
        "git": git_commit(config.notebooks_dir), "log": os.path.relpath(log_path, final),
        "notebooks": [vars(r) for r in results],
    })
    os.replace(work, final)
