"""`channelkit sample`: write the deterministic sample retailer and its ground truth."""
from __future__ import annotations

import argparse
from pathlib import Path

from channelkit.errors import ConfigError, InputError

HELP = "generate the fictional multi-channel sample retailer (tables + truth.json) into a folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="folder to write (created if missing)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7); same seed, same bytes")
    parser.add_argument("--scale", choices=("small", "medium", "large"), default="small",
                        help="small: 32 SKUs; medium: 300; large: 2,000 SKUs and 1,000,000 journeys (default small)")
    parser.add_argument("--format", dest="fmt", choices=("csv", "parquet"), default=None,
                        help="force one file format for every table (default: Parquet for orders and "
                             "touchpoints, CSV for the rest)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="show a progress bar (default on)")


def run(args: argparse.Namespace) -> int:
    from channelkit.data.sample import generate, load_truth

    try:
        out = generate(args.out, seed=args.seed, scale=args.scale, fmt=args.fmt, progress=args.progress)
    except InputError as exc:  # bad arguments are a command-line problem here
        raise ConfigError(str(exc)) from exc
    truth = load_truth(out)
    rows = ", ".join(f"{name}={n:,}" for name, n in truth["rows"].items())
    print(f"wrote the {args.scale} sample (seed {args.seed}, {truth['start']}..{truth['end']}) to {out}: {rows}")
    return 0
