"""The kernel a run uses and the files it leaves: what a scheduled job needs to run unattended.

- Kernel: the config's kernel (``channelkit`` by default, registered by ``make``). On a plain
  ``pip install`` nothing registers it; the run then uses the interpreter running the report
  (``sys.executable``), through a kernel spec written into the run's work folder, and says so in
  the log. Any other kernel name that is not installed is a :class:`ConfigError` before any work.
- Scratch: the kernels' connection files (written by this process with ``tempfile``, and
  ``JUPYTER_RUNTIME_DIR``) and every temporary folder the notebooks make (``TMPDIR``: Prophet's and
  cmdstanpy's included) live inside the run's hidden work folder ``.<run id>.tmp/``, and are
  deleted before the folder gets its final name (see :func:`kernel_scratch`).
- Leftovers: a run holds an exclusive lock on ``.<run id>.tmp/.lock`` while it works. The next run
  deletes every ``.<run id>.tmp`` folder whose lock it can take (its run was killed), with its
  kernel files and temporary folders; a folder without a lock file (a run killed before it made
  one, or by an older version) is deleted once it is :data:`STALE_AFTER_S` old. A concurrent
  run's folder is locked, so it is left alone.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from channelkit.errors import ConfigError

try:  # POSIX; elsewhere only the age rule sweeps leftovers
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

DEFAULT_KERNEL = "channelkit"
FALLBACK_ENV = "CHANNELKIT_FALLBACK_KERNEL"  # set in a fallback kernel: the interpreter it runs
LOCK_NAME = ".lock"
SCRATCH = (".jupyter", ".runtime", ".scratch")  # kernel spec, connection files, TMPDIR
STALE_AFTER_S = 24 * 3600.0


def installed_kernels() -> dict[str, str]:
    """Kernel name -> spec folder, as Jupyter finds them now."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager().find_kernel_specs()


def resolve_kernel(name: str) -> bool:
    """Whether ``name`` must run on the current interpreter (``True``: the default kernel is not installed).

    Raises :class:`ConfigError` when another, explicitly configured kernel is not installed.
    """
    kernels = installed_kernels()
    if name in kernels:
        return False
    if name == DEFAULT_KERNEL:
        return True
    raise ConfigError(f"kernel {name!r} is not installed (installed: {', '.join(sorted(kernels)) or 'none'}); "
                      f"set `kernel:` in the config to one of them, or remove it to use the {DEFAULT_KERNEL!r} "
                      "kernel (or, when that is not registered, the current interpreter)")


def write_fallback_spec(work: Path, name: str = DEFAULT_KERNEL) -> Path:
    """A kernel spec ``name`` that starts ``sys.executable``'s ipykernel; returns its Jupyter path folder."""
    folder = work / ".jupyter"
    spec = folder / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python ({name}, current interpreter)", "language": "python",
        "metadata": {"debugger": False}, "env": {FALLBACK_ENV: sys.executable},
    }), encoding="utf-8")
    return folder


@contextlib.contextmanager
def kernel_scratch(work: Path, *, fallback_kernel: bool) -> Iterator[dict[str, str]]:
    """While the notebooks run: their kernels' files and temporary folders go inside ``work``.

    Yields the environment for the kernels (``TMPDIR`` and ``JUPYTER_RUNTIME_DIR`` in ``work``; with
    ``fallback_kernel``, ``JUPYTER_PATH`` to the fallback spec). jupyter_client writes a kernel's
    connection file with ``tempfile.mkstemp`` in *this* process, so this process's temporary folder
    points into ``work`` too for the duration, and is restored afterwards.
    """
    runtime, scratch = work / ".runtime", work / ".scratch"
    runtime.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    env = {"JUPYTER_RUNTIME_DIR": str(runtime), "TMPDIR": str(scratch), "TEMP": str(scratch), "TMP": str(scratch)}
    if fallback_kernel:
        paths = [str(write_fallback_spec(work)), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
        env["JUPYTER_PATH"] = os.pathsep.join(paths)
    saved = tempfile.tempdir
    tempfile.tempdir = str(runtime)
    try:
        yield env
    finally:
        tempfile.tempdir = saved


def remove_scratch(work: Path) -> None:
    """Delete the kernel spec, connection files, temporary folders and lock file of a finished run.

    The lock stays held (by its open handle) until :func:`run_lock` ends; a folder without a lock
    file is left alone by :func:`sweep_leftovers` until it is a day old.
    """
    for name in SCRATCH:
        shutil.rmtree(work / name, ignore_errors=True)
    with contextlib.suppress(OSError):
        (work / LOCK_NAME).unlink()


@contextlib.contextmanager
def run_lock(work: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``work/.lock`` while the run works (released when the process dies)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    handle = open(work / LOCK_NAME, "w")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            (work / LOCK_NAME).unlink()
        handle.close()


def _abandoned(folder: Path, now: float) -> bool:
    lock = folder / LOCK_NAME
    if fcntl is not None and lock.is_file():
        try:
            with open(lock, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # taken: its run is gone
                return True
        except OSError:
            return False  # held by a live run (or unreadable): leave it
    try:
        return now - folder.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def sweep_leftovers(out_dir: Path, *, keep: str | None = None, log: logging.Logger | None = None) -> list[str]:
    """Delete what killed runs left in ``out_dir``: unlocked ``.<run id>.tmp`` folders and stale
    ``.latest.<run id>.tmp`` pointers. Returns the names removed; ``keep`` is never touched."""
    removed = []
    now = time.time()
    for path in sorted(out_dir.glob(".*.tmp")):
        if path.name == keep:
            continue
        if path.is_dir() and not path.is_symlink():
            if not _abandoned(path, now):
                continue
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(".latest."):
            with contextlib.suppress(OSError):
                if now - path.lstat().st_mtime > 60:
                    path.unlink()
            if path.is_symlink() or path.exists():
                continue
        else:
            continue
        removed.append(path.name)
        if log is not None:
            log.warning("removed %s, left by a run that was killed", path.name)
    return removed
