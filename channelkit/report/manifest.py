"""``manifest.json``: what a report run used and did, so any figure can be traced and re-made.

It holds the checked config, a fingerprint of the input data (SHA-256 of every file), the package
versions, the git commit of the project, the run's start and end (UTC, ISO 8601) and each
notebook's status and duration.
"""
from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

# The packages whose versions change what a report shows.
REPORTED_PACKAGES = (
    "channelkit", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn", "matplotlib", "seaborn",
    "prophet", "cmdstanpy", "statsforecast", "hierarchicalforecast", "linearmodels", "holidays",
    "pandera", "papermill", "nbconvert", "nbclient", "ipykernel",
)
_CHUNK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def data_fingerprint(data_dir: str | Path) -> dict[str, Any]:
    """Fingerprint of every (non-hidden) file under ``data_dir``.

    Returns ``{"sha256": <digest over the sorted (path, digest) pairs>, "files": [{"path", "bytes",
    "sha256"}]}``; the overall digest changes when any file is added, removed, renamed or edited.
    """
    root = Path(data_dir)
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        files.append({"path": rel, "bytes": path.stat().st_size, "sha256": file_sha256(path)})
    overall = hashlib.sha256("\n".join(f"{f['path']}\t{f['sha256']}" for f in files).encode()).hexdigest()
    return {"sha256": overall, "files": files}


def package_versions(names: Iterable[str] = REPORTED_PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (``None`` when not installed), plus ``python``."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(path: str | Path = ".") -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the git work tree holding ``path``; ``None`` outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def write_manifest(path: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest`` as indented UTF-8 JSON to ``path`` and return it."""
    path = Path(path)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read a manifest written by :func:`write_manifest` (``path`` may be the run folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))
