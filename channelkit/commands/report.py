"""`channelkit report`: run every notebook with papermill and build the HTML report."""
from __future__ import annotations

import argparse
import sys

from channelkit.report.config import load_config
from channelkit.report.runner import run_report

HELP = "run every notebook in notebooks/ with papermill and write an HTML report to outputs/<run id>/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="YAML report config (default: config/report.yaml when present)")
    parser.add_argument("--data", metavar="DIR", default=None, help="data folder; overrides data_dir of the config")
    parser.add_argument("--only", metavar="NAME", nargs="+", default=None,
                        help="run only these notebooks (stem, file name or number, e.g. 01)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="folder for the runs (default: outputs/); overrides out_dir of the config")
    parser.add_argument("--quiet", action="store_true", help="print only where the report is")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, overrides={"data_dir": args.data, "out_dir": args.out})
    # SIGTERM is an interrupt here (see channelkit.cli): the run is marked interrupted and
    # `latest` keeps pointing at the last good run.
    result = run_report(config, only=args.only, progress=None if args.quiet else sys.stdout)
    print(f"Report: {result.index}")
    return 0
