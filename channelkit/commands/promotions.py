"""`channelkit promotions`: did each promotion and festival pay?

Reads a contract dataset (``--data DIR``), evaluates every promotion and festival of its
``events`` table against a counterfactual (difference-in-differences against the unpromoted
channels for channel promotions, the forecasting engine trained on the days before the event for
festivals; see :mod:`channelkit.promotions.estimate`) and writes one row per event and channel to ``--out``
(CSV, Parquet or JSON records by the file's suffix). ``--spend FILE`` (CSV with ``event, spend``
and optionally ``channel``) adds promotion costs to the ROI. A channel promotion that shares days
with a festival is named in the ``overlap`` column of both rows, and the shared lift is split
between them (``overlap_split``; see :mod:`channelkit.promotions.overlap`); the summary line counts them.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from channelkit.errors import ConfigError

HELP = "incremental units, revenue, margin, dip and ROI of every promotion and festival"
_SUFFIXES = (".csv", ".parquet", ".pq", ".json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="DIR", required=True, help="a contract dataset folder (orders, events, ...)")
    parser.add_argument("--out", metavar="FILE", required=True, help="result table: .csv, .parquet or .json")
    parser.add_argument("--kinds", default="promotion,festival",
                        help="event kinds to evaluate, comma-separated (default promotion,festival)")
    parser.add_argument("--pre-days", type=int, default=56,
                        help="clean days before each event: the difference-in-differences comparison period "
                             "and the normal-price days for money per unit (default 56)")
    parser.add_argument("--post-days", type=int, default=7,
                        help="days after each event searched for the pull-forward dip (default 7)")
    parser.add_argument("--level", type=float, default=95, help="interval level in percent (default 95)")
    parser.add_argument("--demand", choices=("gross", "net"), default="gross",
                        help="gross: paid and refunded lines count as demand (default); net: paid lines only")
    parser.add_argument("--spend", metavar="FILE", default=None,
                        help="CSV of promotion costs (event, spend[, channel]) counted in ROI")
    parser.add_argument("--start", default=None, help="first day of sales to use (default: all)")
    parser.add_argument("--end", default=None, help="last day of sales to use (default: all)")


def write_table(frame: pd.DataFrame, out: Path) -> None:
    """Write by suffix: .csv, .parquet/.pq or .json (records, ISO dates), atomically (see channelkit.io)."""
    from channelkit.io import write_frame

    write_frame(frame, out)


def run(args: argparse.Namespace) -> int:
    from channelkit.data import daily_sales, load_dataset
    from channelkit.promotions import channel_daily, channel_daily_from_orders, evaluate_promotions

    from channelkit.io import check_input, check_output, read_input

    out = check_output(args.out, option="--out", suffixes=_SUFFIXES)
    if not Path(args.data).is_dir():
        raise ConfigError(f"--data: no such folder: {args.data}")
    if args.spend:
        check_input(args.spend, option="--spend", suffixes=(".csv",))
    for option, day in (("--start", args.start), ("--end", args.end)):
        if day is not None:
            try:
                pd.Timestamp(day)
            except ValueError:
                raise ConfigError(f"{option} must be a date such as 2025-06-18, but got {day!r}") from None
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not kinds or set(kinds) - {"promotion", "festival", "holiday"}:
        raise ConfigError(f"--kinds must list promotion, festival or holiday, but got {args.kinds!r}")
    dataset = load_dataset(args.data)
    events = dataset.require("events", analysis="channelkit promotions")
    options = {"products": dataset.products, "channels": dataset.channels, "demand": args.demand}
    if dataset.orders is not None:
        daily = channel_daily_from_orders(dataset.orders, **options)
    else:
        daily = channel_daily(daily_sales(dataset), **options)
    if args.start or args.end:
        dates = daily["date"]
        daily = daily[dates.between(pd.Timestamp(args.start or dates.min()), pd.Timestamp(args.end or dates.max()))]
    spend = read_input(args.spend, option="--spend", suffixes=(".csv",)) if args.spend else None
    result = evaluate_promotions(daily, events, marketing=dataset.marketing, spend=spend, kinds=kinds,
                                 pre_days=args.pre_days, post_days=args.post_days, level=args.level)
    write_table(result, out)
    done = result[result["note"] == ""]
    promos = done[done["kind"] == "promotion"]
    print(f"{len(result)} event rows ({len(result) - len(done)} not estimable, see `note`) -> {out}")
    overlapping = result[(result["kind"] == "promotion") & (result["overlap"] != "")]
    if len(overlapping):
        joint = int((overlapping["overlap_split"] == "joint").sum())
        print(f"promotions on festival days: {len(overlapping)} ({joint} wholly inside a festival, reported "
              "jointly with it); see `overlap` and `overlap_split`")
    if len(promos):
        print(f"channel promotions: {len(promos)}, {int(promos['paid'].sum())} paid; incremental units "
              f"{promos['incremental_units'].sum():,.0f}, net incremental margin "
              f"{promos['net_incremental_margin'].sum():,.0f}")
    return 0
