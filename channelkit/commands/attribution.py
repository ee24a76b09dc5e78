"""`channelkit attribution`: attribute conversions to marketing channels from a path table or a dataset."""
from __future__ import annotations

import argparse
from pathlib import Path

from channelkit.errors import ConfigError

HELP = "attribute conversions and value to marketing channels (heuristics, Markov, Shapley)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--paths", type=Path, help="path table (CSV with , or ; / Parquet): path, conversions, "
                     "value, nulls (or ChannelAttribution's total_conversions, total_conversion_value, total_null)")
    src.add_argument("--data", type=Path, help="dataset folder: build the paths from touchpoints and orders")
    parser.add_argument("--out", required=True, type=Path, help="output file (.csv or .parquet): one row per "
                        "channel and model: channel, model, conversions, value, share")
    parser.add_argument("--models", nargs="+", default=None, metavar="NAME",
                        help="first_touch last_touch last_non_direct linear time_decay position_based markov "
                        "shapley (default: every model the data allow)")
    parser.add_argument("--order", nargs="+", type=int, default=[1], metavar="K",
                        help="Markov order(s), 1 to 3 (default 1); rows are labelled markov_o1, ...")
    parser.add_argument("--max-step", type=int, default=None, help="stop Markov walks after this many channel "
                        "states, as ChannelAttribution's max_step does (default: no limit, the exact chain)")
    parser.add_argument("--lookback-days", type=float, default=30.0, help="with --data: days a touch counts "
                        "before an order (default 30)")
    parser.add_argument("--half-life-days", type=float, default=7.0, help="time decay half-life (default 7)")
    parser.add_argument("--direct-channel", default="direct", help="channel skipped by last_non_direct")
    parser.add_argument("--write-paths", type=Path, default=None, help="with --data: also write the path table")


def run(args: argparse.Namespace) -> int:
    from channelkit.attribution.compare import MODELS, attribute
    from channelkit.attribution.paths import dataset_journeys, path_table, read_paths, write_paths

    unknown = [m for m in (args.models or []) if m not in MODELS]
    if unknown:
        raise ConfigError(f"--models: unknown model(s) {unknown}; choose from {' '.join(MODELS)}")
    bad = [k for k in args.order if k not in (1, 2, 3)]
    if bad:
        raise ConfigError(f"--order must be 1, 2 or 3, but got {bad}")
    journeys = None
    if args.data is not None:
        from channelkit.data import load_dataset

        journeys = dataset_journeys(load_dataset(args.data), lookback_days=args.lookback_days)
        paths = path_table(journeys)
        if args.write_paths is not None:
            write_paths(paths, args.write_paths)
    else:
        paths = read_paths(args.paths)
    result = attribute(paths, models=args.models, orders=args.order, journeys=journeys,
                       direct_channel=args.direct_channel, half_life_days=args.half_life_days,
                       max_step=args.max_step)
    out = write_paths(result, args.out)  # same writer: CSV or Parquet by suffix
    n_conv = paths["conversions"].sum()
    print(f"attributed {n_conv:,.0f} conversions over {result['channel'].nunique()} channels with "
          f"{result['model'].nunique()} models to {out}")
    return 0
