"""environment.yml must list the same packages as pyproject.toml (the source of truth)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names
CONDA_NAMES = {"pyyaml": "pyyaml"}


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0]
    return CONDA_NAMES.get(name.lower(), name.lower()).replace("_", "-")


def _pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    return {_name(r) for r in reqs}


def _env_requirements() -> list[str]:
    """conda packages plus those under `pip:` (packages conda-forge lacks), without `-e .`."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = [d for d in env["dependencies"] if isinstance(d, str)]
    for d in env["dependencies"]:
        if isinstance(d, dict):
            out += [r.split("#")[0].strip() for r in d.get("pip", []) if not r.startswith("-")]
    return out


def _conda_packages() -> set[str]:
    names = {_name(d) for d in _env_requirements()}
    return names - {"python", "pip"}


def test_environment_yml_lists_the_same_packages_as_pyproject() -> None:
    py, conda = _pyproject_packages(), _conda_packages()
    assert py == conda, f"only in pyproject.toml: {sorted(py - conda)}; only in environment.yml: {sorted(conda - py)}"


def test_environment_yml_uses_the_same_version_bounds() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    conda = {_name(d): d.replace(" ", "") for d in _env_requirements()}
    for req in reqs:
        spec = req.split(";")[0].replace(" ", "")
        spec = re.sub(r"\[.*?\]", "", spec)
        assert conda[_name(req)].lower() == spec.lower(), f"{req!r} differs from environment.yml's {conda[_name(req)]!r}"
