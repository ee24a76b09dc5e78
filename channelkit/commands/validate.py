"""`channelkit validate PATH [--mapping FILE]`: every problem of a dataset at once, or its summary.

Exit code 0 with a summary (rows per table, date range, channels, SKUs) and one line per report
notebook (runs in full / in part / cannot run, from :mod:`channelkit.data.support`) when the data
meet the contract; 1 with the list of problems (file, column, rule, rows, examples) when they do not;
2 when the folder or the mapping file is wrong.
"""
from __future__ import annotations

import argparse
from pathlib import Path

HELP = "check a dataset folder against the data contract: list every problem, or print a summary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="dataset folder (one CSV/Parquet/xlsx file per table)")
    parser.add_argument("--mapping", type=Path, default=None, metavar="FILE",
                        help="column-mapping YAML (default: columns.yaml in the folder, if present)")
    parser.add_argument("--limit", action="append", default=[], metavar="COLUMN=MAX",
                        help="largest absolute value of a numeric column, e.g. unit_price=50000 or "
                             "orders.units=10000 (repeatable; default 1e12 for every number; inf is always refused)")
    parser.add_argument("--holidays", default="CN", metavar="CODE",
                        help="market calendar for the festival parts: CN (default), a country code such as US, "
                             "or none")


def run(args: argparse.Namespace) -> int:
    from channelkit.data.market import market_problems
    from channelkit.data.support import data_support
    from channelkit.data.validation import check_folder, format_problems
    from channelkit.errors import ConfigError

    if problems := market_problems(holidays=args.holidays):
        raise ConfigError(problems[0])
    limits = {}
    for item in args.limit:
        column, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--limit takes COLUMN=MAX, e.g. unit_price=50000, but got {item!r}")
        limits[column.strip()] = value.strip()
    dataset, problems = check_folder(args.path, mapping=args.mapping, limits=limits)
    if problems:
        print(format_problems(problems, source=args.path))
        return 1
    print(f"{args.path}: the data meet the contract.")
    print(dataset.summary())
    print("What the report can show:")
    for line in data_support(dataset, holidays=args.holidays).lines():
        print(f"  {line}")
    if dataset.dropped_columns:
        for table, columns in dataset.dropped_columns.items():
            print(f"not loaded (not in the contract) from {table}: {', '.join(columns)}")
    return 0
