"""`channelkit notebooks --out DIR`: copy the default report notebooks into a folder to customise.

The copies are the notebooks installed with channelkit (stored without outputs). Point the report
at them with ``notebooks_dir: DIR`` in the report config (or run ``channelkit report`` from the
folder that holds ``DIR`` when DIR is ``notebooks``). Existing files are never overwritten unless
``--force`` is given.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

HELP = "copy the default report notebooks into a folder, to customise and point the report config at"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("notebooks"), metavar="DIR",
                        help="folder to copy the notebooks into (default: ./notebooks)")
    parser.add_argument("--force", action="store_true", help="overwrite notebooks that already exist in DIR")


def copy_notebooks(out: Path, *, force: bool = False) -> list[Path]:
    """Copy the packaged notebooks into ``out``; returns the written paths.

    Raises :class:`~channelkit.errors.ConfigError` naming the files that exist when ``force`` is
    False (nothing is copied then).
    """
    from channelkit.errors import ConfigError
    from channelkit.report.config import packaged_notebooks_dir

    source = sorted(packaged_notebooks_dir().glob("*.ipynb"))
    if not source:
        raise ConfigError(f"no notebooks installed with channelkit in {packaged_notebooks_dir()}; reinstall channelkit")
    out = Path(out)
    clash = [out / p.name for p in source if (out / p.name).exists()]
    if clash and not force:
        raise ConfigError(f"{len(clash)} notebook(s) already in {str(out)!r} (e.g. {clash[0].name}); "
                          "pass --force to overwrite them or choose another --out folder")
    out.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(p, out / p.name)) for p in source]


def run(args: argparse.Namespace) -> int:
    written = copy_notebooks(args.out, force=args.force)
    print(f"{len(written)} notebooks copied to {args.out}:")
    for path in written:
        print(f"  {path.name}")
    print(f"Point the report at them with `notebooks_dir: {args.out}` in the report config.")
    return 0
