"""`channelkit attribution`: attribute conversions to marketing channels.

Three inputs: a path table (``--paths``, ChannelAttribution's format), a contract dataset
(``--data DIR``: touchpoints and orders, see :func:`channelkit.attribution.paths.build_journeys`),
or a raw touch log (``--touches FILE``: one row per touch, e.g. the Criteo Attribution Modeling
dataset; journeys by the rules of :mod:`channelkit.attribution.touches`). Only the touch log's
named columns are read; user ids never reach the output (one row per channel and model).
"""
from __future__ import annotations

import argparse
import csv
import gzip
from pathlib import Path

import pandas as pd

from channelkit.errors import ConfigError, InputError

HELP = "attribute conversions and value to marketing channels (heuristics, Markov, Shapley)"

EPILOG = """\
examples:

  # the Criteo Attribution Modeling dataset (tab-separated; one row per impression)
  channelkit attribution --touches criteo_attribution_dataset.tsv.gz --user-col uid \\
      --time-col timestamp --channel-col campaign --conversion-col conversion \\
      --conversion-id-col conversion_id --conversion-time-col conversion_timestamp --out credit.csv

  # a generic log: user, time, channel, converted (1 on the converting touch), value
  channelkit attribution --touches log.csv --user-col user --time-col time --channel-col channel \\
      --conversion-col converted --value-col value --lookback-days 30 --out credit.parquet

Touch-log journeys: a user's touches in time order up to and including each converting touch
(or, with --conversion-id-col, the touches labelled with each conversion id); touches after the
last conversion, or older than --lookback-days before theirs, form non-converting journeys.
Numeric times are seconds (Criteo's timestamp). --write-paths saves the path table.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the examples' line breaks
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--paths", type=Path, help="path table (CSV with , or ; / Parquet): path, conversions, "
                     "value, nulls (or ChannelAttribution's total_conversions, total_conversion_value, total_null)")
    src.add_argument("--data", type=Path, help="dataset folder: build the paths from touchpoints and orders")
    src.add_argument("--touches", type=Path, help="touch log (CSV/TSV, optionally .gz, or Parquet): one row per "
                     "touch with user, time, channel and a conversion flag and/or conversion id")
    _touch_arguments(parser.add_argument_group("touch log columns (with --touches)"))
    parser.add_argument("--out", required=True, type=Path, help="output file (.csv or .parquet): one row per "
                        "channel and model: channel, model, conversions, value, share")
    parser.add_argument("--models", nargs="+", default=None, metavar="NAME",
                        help="first_touch last_touch last_non_direct linear time_decay position_based markov "
                        "shapley (default: every model the data allow)")
    parser.add_argument("--order", nargs="+", type=int, default=[1], metavar="K",
                        help="Markov order(s), 1 to 3 (default 1); rows are labelled markov_o1, ...")
    parser.add_argument("--max-step", type=int, default=None, help="stop Markov walks after this many channel "
                        "states, as ChannelAttribution's max_step does (default: no limit, the exact chain)")
    parser.add_argument("--lookback-days", type=float, default=None, help="days a touch counts before its "
                        "conversion (default: 30 with --data, no limit with --touches)")
    parser.add_argument("--half-life-days", type=float, default=7.0, help="time decay half-life (default 7)")
    parser.add_argument("--direct-channel", default="direct", help="channel skipped by last_non_direct")
    parser.add_argument("--write-paths", type=Path, default=None,
                        help="with --data or --touches: also write the path table")


def _touch_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--user-col", default="customer_id", help="user id column (default customer_id)")
    group.add_argument("--time-col", default="ts", help="touch time column; numbers are seconds (default ts)")
    group.add_argument("--channel-col", default="channel", help="channel or campaign column (default channel)")
    group.add_argument("--conversion-col", default=None, help="conversion flag (1/0, true/false): without "
                       "--conversion-id-col, 1 marks the converting touch")
    group.add_argument("--conversion-id-col", default=None, help="conversion id column: touches with the same "
                       "user and id form that conversion's journey (missing or -1: no conversion)")
    group.add_argument("--conversion-time-col", default=None, help="with --conversion-id-col: the conversion's "
                       "time (default: the journey's last touch)")
    group.add_argument("--value-col", default=None, help="conversion value column (default: value 0)")


def _named_columns(args: argparse.Namespace) -> dict[str, str]:
    """Option -> column of the touch log, for the options that name one."""
    named = {"--user-col": args.user_col, "--time-col": args.time_col, "--channel-col": args.channel_col,
             "--conversion-col": args.conversion_col, "--conversion-id-col": args.conversion_id_col,
             "--conversion-time-col": args.conversion_time_col, "--value-col": args.value_col}
    return {k: v for k, v in named.items() if v}


def _text_header(path: Path) -> tuple[list[str], str, str]:
    """Columns, delimiter (sniffed: , ; tab |) and encoding of a CSV/TSV file, gzip or not."""
    from channelkit.io import text_encoding

    gz = path.suffix.lower() == ".gz"
    encoding = "utf-8-sig" if gz else text_encoding(path, option="--touches")
    with (gzip.open(path, "rt", encoding=encoding, newline="") if gz else
          path.open(encoding=encoding, newline="")) as fh:
        line = fh.readline()
    try:
        delimiter = csv.Sniffer().sniff(line, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return [c.strip() for c in next(csv.reader([line], delimiter=delimiter))], delimiter, encoding


def read_touch_log(path: Path, columns: dict[str, str]) -> pd.DataFrame:
    """Only the named ``columns`` of a touch log; ids and channels as text (leading zeros kept).

    Raises :class:`ConfigError` naming the missing columns and listing the file's columns.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from channelkit.data.loaders import read_file

    if not path.is_file():
        raise ConfigError(f"--touches: no such file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"--touches {path} is empty: it has no header and no data rows")
    parquet, xlsx = path.suffix.lower() in (".parquet", ".pq"), path.suffix.lower() == ".xlsx"
    try:
        if xlsx:  # spreadsheets are small: read whole, ids as text
            frame = read_file(path, string_columns=(columns.get("--user-col", ""), columns.get("--channel-col", "")))
        header, delimiter, encoding = (pq.read_schema(path).names, "", "") if parquet else \
            (list(frame.columns), "", "") if xlsx else _text_header(path)
    except (OSError, ValueError, EOFError, UnicodeDecodeError, pa.ArrowException) as exc:
        raise InputError(f"--touches {path} could not be read: {exc}") from exc
    missing = {opt: col for opt, col in columns.items() if col not in header}
    if missing:
        raise ConfigError(f"--touches {path} lacks column(s) {sorted(set(missing.values()))} (named by "
                          f"{', '.join(missing)}); its columns are {header}")
    wanted = list(dict.fromkeys(columns.values()))
    text = {columns[k]: pa.string() for k in ("--user-col", "--channel-col", "--conversion-id-col") if k in columns}
    try:
        if parquet or xlsx:
            return frame[wanted] if xlsx else pd.read_parquet(path, columns=wanted)
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(encoding=encoding.replace("-sig", "")),
                               parse_options=pacsv.ParseOptions(delimiter=delimiter),
                               convert_options=pacsv.ConvertOptions(include_columns=wanted, column_types=text,
                                                                    strings_can_be_null=True))
    except (OSError, ValueError, EOFError, pa.ArrowException) as exc:
        raise InputError(f"--touches {path} could not be read: {exc}") from exc
    if table.num_rows == 0:
        raise InputError(f"--touches {path} has a header but no data rows")
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)  # ids stay compact


def _touch_journeys(args: argparse.Namespace) -> pd.DataFrame:
    from channelkit.attribution.touches import touch_journeys

    columns = _named_columns(args)
    if args.conversion_col is None and args.conversion_id_col is None:
        raise ConfigError("--touches needs --conversion-col (flag on the converting touch) and/or "
                          "--conversion-id-col (each touch labelled with its conversion's id)")
    if args.conversion_time_col and not args.conversion_id_col:
        raise ConfigError("--conversion-time-col needs --conversion-id-col")
    log = read_touch_log(args.touches, columns)
    journeys = touch_journeys(log, user_col=args.user_col, time_col=args.time_col, channel_col=args.channel_col,
                              conversion_col=args.conversion_col, conversion_id_col=args.conversion_id_col,
                              value_col=args.value_col, conversion_time_col=args.conversion_time_col,
                              lookback_days=args.lookback_days)
    n_journeys = int(journeys["journey"].nunique())
    print(f"touch log: {len(log):,} touches -> {n_journeys:,} journeys, "
          f"{int(journeys.loc[journeys['converted'], 'journey'].nunique()):,} converting; "
          f"{journeys.attrs['untouched_conversions']:,} conversions without a touch in the lookback left out")
    return journeys


def run(args: argparse.Namespace) -> int:
    from channelkit.attribution.compare import MODELS, attribute
    from channelkit.attribution.paths import dataset_journeys, normalize_paths, path_table
    from channelkit.io import check_output, read_input, write_frame

    suffixes = (".csv", ".parquet", ".pq")
    check_output(args.out, option="--out", suffixes=suffixes)
    if args.write_paths is not None and args.paths is not None:
        raise ConfigError("--write-paths needs --data or --touches (with --paths the table is the input)")
    check_output(args.write_paths, option="--write-paths", suffixes=suffixes)
    for option, value in (("--lookback-days", args.lookback_days), ("--half-life-days", args.half_life_days)):
        if value is not None and not value > 0:
            raise ConfigError(f"{option} must be > 0, but got {value}")
    if args.max_step is not None and args.max_step < 1:
        raise ConfigError(f"--max-step must be at least 1, but got {args.max_step}")
    unknown = [m for m in (args.models or []) if m not in MODELS]
    if unknown:
        raise ConfigError(f"--models: unknown model(s) {unknown}; choose from {' '.join(MODELS)}")
    bad = [k for k in args.order if k not in (1, 2, 3)]
    if bad:
        raise ConfigError(f"--order must be 1, 2 or 3, but got {bad}")
    journeys = None
    if args.data is not None:
        from channelkit.data import load_dataset

        lookback = 30.0 if args.lookback_days is None else args.lookback_days
        journeys = dataset_journeys(load_dataset(args.data), lookback_days=lookback)
    elif args.touches is not None:
        journeys = _touch_journeys(args)
    if journeys is not None:
        paths = path_table(journeys)
    else:
        paths = normalize_paths(read_input(args.paths, option="--paths"))
    result = attribute(paths, models=args.models, orders=args.order, journeys=journeys,
                       direct_channel=args.direct_channel, half_life_days=args.half_life_days,
                       max_step=args.max_step)
    if args.write_paths is not None:  # only once attribution succeeded: a failed run writes nothing
        write_frame(paths, args.write_paths, option="--write-paths")
    out = write_frame(result, args.out)
    n_conv = paths["conversions"].sum()
    print(f"attributed {n_conv:,.0f} conversions over {result['channel'].nunique()} channels with "
          f"{result['model'].nunique()} models to {out}")
    return 0
