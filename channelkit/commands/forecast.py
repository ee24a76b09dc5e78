"""`channelkit forecast`: forecast a sales panel file or a dataset's sales panel.

    channelkit forecast --panel sales.csv --horizon 28 --level 80 95 --out forecast.csv
    channelkit forecast --data data/sample --horizon 8 --freq W-MON --out weekly.parquet

The panel (CSV or Parquet) needs ``date, sku, channel, units``; the frequency is inferred when
``--freq`` is not given. The output (CSV or Parquet, by extension) has one row per series and
future date: ``sku, channel, date, forecast, lo_<L>, hi_<L>, model``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from channelkit.errors import ConfigError

HELP = "forecast units per SKU x channel from a panel file (--panel) or a dataset folder (--data)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--panel", type=Path, metavar="FILE", help="panel CSV/Parquet with date, sku, channel, units")
    src.add_argument("--data", type=Path, metavar="DIR", help="dataset folder: forecast its sales panel")
    parser.add_argument("--horizon", type=int, required=True, metavar="H", help="periods to forecast")
    parser.add_argument("--freq", default=None, metavar="F", help="pandas frequency, e.g. D or W-MON (default: inferred)")
    parser.add_argument("--level", type=float, nargs="+", default=[80, 95], metavar="L",
                        help="prediction-interval levels in percent (default: 80 95)")
    parser.add_argument("--models", nargs="+", default=["auto"], metavar="M",
                        help="'auto' or model names (seasonal_naive ets mstl mstl_yearly croston tsb adida theta)")
    parser.add_argument("--windows", type=int, default=3, help="backtest windows (default: 3)")
    parser.add_argument("--backend", choices=("local", "dask"), default="local", help="where the fits run")
    parser.add_argument("--n-jobs", type=int, default=-1, help="parallel fits (-1: every core)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="output CSV or Parquet")


def _read_panel(path: Path):
    import pandas as pd

    if not path.exists():
        raise ConfigError(f"--panel: file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, dtype={"sku": str, "channel": str})
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise ConfigError(f"--panel must be a .csv or .parquet file, but got {path.name}")


def _dataset_panel(folder: Path, freq: str | None):
    from channelkit.data import daily_sales, load_dataset

    if not folder.is_dir():
        raise ConfigError(f"--data: not a folder: {folder}")
    weekly = freq is not None and freq.upper().startswith("W")
    return daily_sales(load_dataset(folder), freq="W" if weekly else "D")


def run(args: argparse.Namespace) -> int:
    from channelkit.forecast import forecast

    if args.out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise ConfigError(f"--out must end in .csv or .parquet, but got {args.out.name}")
    panel = _read_panel(args.panel) if args.panel else _dataset_panel(args.data, args.freq)
    models = args.models[0] if args.models == ["auto"] else args.models
    # A dataset's weekly panel starts its weeks on Monday; let the engine infer the anchor.
    freq = None if args.data and args.freq and args.freq.upper().startswith("W") else args.freq
    result = forecast(panel, horizon=args.horizon, freq=freq, levels=args.level, models=models,
                      n_windows=args.windows, backend=args.backend, n_jobs=args.n_jobs, progress=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix.lower() == ".csv":
        result.to_csv(args.out, index=False)
    else:
        result.to_parquet(args.out, index=False)
    print(f"wrote {len(result)} rows ({result[['sku', 'channel']].drop_duplicates().shape[0]} series) to {args.out}")
    return 0
