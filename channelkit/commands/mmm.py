"""`channelkit mmm`: what each yuan of ad spend earns (marketing mix model), and where to move it.

    channelkit mmm --panel weekly.csv --date-col week --target-col revenue \
        --spend-cols search social kol --control-cols price promo --freq W --out roas.csv
    channelkit mmm --data data/sample --lift-tests lifts.csv --budget 3000000 --out roas.csv

``--panel`` is a CSV/Parquet/xlsx file with one row per day (or week): the date, the sales to
explain, one spend column per marketing channel and optional controls. ``--data DIR`` builds that
panel from a dataset (:func:`channelkit.mmm.dataset_panel`: gross sales per day, spend per
marketing channel, the discount and promotion share as controls). ``--lift-tests`` is a CSV with
``channel, start, end, lift, se`` (incremental sales measured by an experiment over the dates,
with its standard error). The output has one row per channel: ``channel, spend, contribution,
roas, roas_lo, roas_hi, mroas, mroas_lo, mroas_hi, half_life`` (days), ``status`` and more
(see :mod:`channelkit.mmm.outputs`); ``--budget TOTAL`` adds ``optimal_spend, advised_spend,
advised, expected_gain, gain_lo, gain_hi`` (:mod:`channelkit.mmm.optimise`). Levels are percent.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from channelkit.errors import ConfigError

HELP = "marketing mix model: ROAS and marginal ROAS per channel with intervals, and a budget allocation"
OUT_SUFFIXES = (".csv", ".parquet", ".pq", ".json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--panel", type=Path, metavar="FILE", help="wide panel: date, sales, one spend column per channel")
    src.add_argument("--data", type=Path, metavar="DIR", help="dataset folder (orders and marketing tables)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="output .csv, .parquet or .json")
    parser.add_argument("--date-col", default="date", help="date column of --panel (default date)")
    parser.add_argument("--target-col", default="sales", help="sales column to explain (default sales)")
    parser.add_argument("--spend-cols", nargs="+", default=None, metavar="COL",
                        help="spend columns, one per channel (required with --panel; --data: every channel)")
    parser.add_argument("--control-cols", nargs="*", default=None, metavar="COL",
                        help="control columns, e.g. price promo (--data: discount promo_share)")
    parser.add_argument("--freq", choices=("D", "W"), default="D", help="fit daily (default) or on Monday weeks")
    parser.add_argument("--lift-tests", type=Path, default=None, metavar="FILE",
                        help="CSV of lift tests: channel, start, end, lift, se")
    parser.add_argument("--level", type=float, default=90, help="interval level in percent (default 90)")
    parser.add_argument("--budget", type=float, default=None, metavar="TOTAL",
                        help="total budget to allocate (adds optimal_spend, expected_gain, gain_lo, gain_hi)")
    parser.add_argument("--bounds", type=float, nargs=2, default=(0.5, 1.5), metavar=("LOW", "HIGH"),
                        help="per-channel spend bounds as multiples of current spend (default 0.5 1.5)")
    parser.add_argument("--no-festivals", action="store_true",
                        help="leave the Chinese festival calendar out of the baseline (data from elsewhere)")
    parser.add_argument("--n-boot", type=int, default=100, help="bootstrap refits for the intervals (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the bootstrap (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def write_atomic(frame, out: Path) -> None:
    """Write by suffix (.csv, .parquet/.pq, .json records) to a temporary file, then rename it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=out.suffix)
    os.close(fd)
    try:
        suffix = out.suffix.lower()
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        elif suffix in (".parquet", ".pq"):
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_json(tmp, orient="records", date_format="iso", indent=2)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _panel(args: argparse.Namespace):
    """The wide panel and the column options, from --panel or --data."""
    if args.data is not None:
        from channelkit.data import load_dataset
        from channelkit.mmm import dataset_panel
        from channelkit.mmm.panel import CONTROL_COLUMNS

        if not args.data.is_dir():
            raise ConfigError(f"--data: no such folder: {args.data}")
        panel = dataset_panel(load_dataset(args.data))
        spend = args.spend_cols or [c for c in panel.columns if c not in ("date", "sales", *CONTROL_COLUMNS)]
        controls = list(CONTROL_COLUMNS) if args.control_cols is None else args.control_cols
        return panel, "date", "sales", spend, controls
    from channelkit.data import read_file

    if not args.panel.is_file():
        raise ConfigError(f"--panel: file not found: {args.panel}")
    if not args.spend_cols:
        raise ConfigError("--spend-cols: name the spend column of each channel in --panel")
    panel = read_file(args.panel)
    named = {"--date-col": [args.date_col], "--target-col": [args.target_col], "--spend-cols": args.spend_cols,
             "--control-cols": args.control_cols or []}
    missing = [f"{opt} {c}" for opt, cols in named.items() for c in cols if c not in panel.columns]
    if missing:
        raise ConfigError(f"{'; '.join(missing)}: no such column in {args.panel.name}; "
                          f"its columns are {list(panel.columns)[:20]}")
    return panel, args.date_col, args.target_col, list(args.spend_cols), list(args.control_cols or [])


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from channelkit.errors import InputError
    from channelkit.mmm import channel_summary, fit_mmm, optimise_budget

    if args.out.suffix.lower() not in OUT_SUFFIXES:
        raise ConfigError(f"--out must end in .csv, .parquet or .json, but got {args.out.name!r}")
    if not 0 < args.level < 100:
        raise ConfigError(f"--level must satisfy 0 < level < 100 (percent), but got {args.level:g}")
    if args.lift_tests is not None and not args.lift_tests.is_file():
        raise ConfigError(f"--lift-tests: file not found: {args.lift_tests}")
    panel, date_col, target, spend, controls = _panel(args)
    lifts = pd.read_csv(args.lift_tests) if args.lift_tests is not None else None
    try:
        result = fit_mmm(panel, date_col=date_col, target_col=target, spend_cols=spend, control_cols=controls,
                         freq=args.freq, lift_tests=lifts, level=args.level, n_boot=args.n_boot, seed=args.seed,
                         n_jobs=args.jobs, festivals=not args.no_festivals)
    except InputError as exc:
        raise ConfigError(str(exc)) from exc
    table = channel_summary(result)
    message = f"{len(table)} channels, {(table['status'] == 'ok').sum()} identifiable"
    if args.budget is not None:
        try:
            plan = optimise_budget(result, total=args.budget, bounds=tuple(args.bounds))
        except InputError as exc:
            raise ConfigError(f"--budget/--bounds: {exc}") from exc
        keep = ["channel", "optimal_spend", "advised_spend", "advised", "expected_gain", "gain_lo", "gain_hi"]
        table = table.merge(plan[keep], on="channel", how="left")
        a = plan.attrs
        message += (f"; budget {a['total']:,.0f}: expected gain {a['expected_gain']:,.0f} "
                    f"({args.level:g}% interval {a['gain_lo']:,.0f}..{a['gain_hi']:,.0f})")
    write_atomic(table, args.out)
    print(f"wrote {args.out}: {message}")
    return 0
