"""`channelkit report`: run every notebook with papermill and build the HTML report."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from channelkit.errors import ConfigError
from channelkit.report.config import load_config
from channelkit.report.runner import discover_notebooks, run_report

HELP = "run every notebook in notebooks/ with papermill and write an HTML report to outputs/<run id>/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="YAML report config (default: config/report.yaml when present)")
    parser.add_argument("--data", metavar="DIR", default=None, help="data folder; overrides data_dir of the config")
    parser.add_argument("--only", metavar="NAME", nargs="+", default=None,
                        help="run only these notebooks (stem, file name or number, e.g. 01)")
    parser.add_argument("--skip", metavar="NAME", nargs="+", default=None,
                        help="leave these notebooks out (stem, file name or number); adds to skip: of the config")
    parser.add_argument("--currency", metavar="CODE", default=None,
                        help="ISO 4217 code of the data's amounts, e.g. USD; overrides currency of the config")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="folder for the runs (default: outputs/); overrides out_dir of the config")
    parser.add_argument("--quiet", action="store_true", help="print only where the report is")


def notebooks_to_run(folder: Path, *, only: list[str] | None, skip: list[str]) -> list[str] | None:
    """Stems to pass as ``only``: ``only`` (or every notebook) less ``skip``; ``None`` = all.

    Names resolve as ``--only`` resolves them (stem, file name or number prefix); a name that
    matches no notebook is a :class:`ConfigError`, and so is skipping every notebook.
    """
    if not skip:
        return only
    chosen = discover_notebooks(folder, only)
    try:
        dropped = {p.stem for p in discover_notebooks(folder, skip)}
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("--only", "--skip/skip", 1)) from exc
    keep = [p.stem for p in chosen if p.stem not in dropped]
    if not keep:
        raise ConfigError(f"--skip/skip leaves no notebook to run (skipped: {', '.join(sorted(dropped))})")
    return keep


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, overrides={"data_dir": args.data, "out_dir": args.out,
                                                  "currency": args.currency})
    only = notebooks_to_run(config.notebooks_dir, only=args.only, skip=[*config.skip, *(args.skip or [])])
    # SIGTERM is an interrupt here (see channelkit.cli): the run is marked interrupted and
    # `latest` keeps pointing at the last good run.
    result = run_report(config, only=only, progress=None if args.quiet else sys.stdout)
    print(f"Report: {result.index}")
    return 0
