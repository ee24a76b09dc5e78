"""`channelkit forecast`: forecast a sales panel file or a dataset's sales panel.

    channelkit forecast --panel sales.csv --horizon 28 --level 80 95 --out forecast.csv
    channelkit forecast --data data/sample --horizon 8 --freq W-MON --out weekly.parquet
    channelkit forecast --panel big.parquet --horizon 28 --backend dask --scheduler tcp://host:8786 --out f.parquet

The panel (CSV or Parquet) needs ``date, sku, channel, units``; the frequency is inferred when
``--freq`` is not given. The output (CSV or Parquet, by extension) has one row per series and
future date: ``sku, channel, date, forecast, lo_<L>, hi_<L>, model``; it is written to a temporary
file beside ``--out`` and renamed when complete, so a failed run leaves an earlier output intact.

``--backend dask`` runs the fits on the Dask cluster at ``--scheduler`` (or the address in Dask's
configuration, e.g. the ``DASK_SCHEDULER_ADDRESS`` environment variable); without one, it starts a
local cluster of ``--n-jobs`` single-threaded worker processes for the run and stops it afterwards.
"""
from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Iterator

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
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address for --backend dask (default: Dask config, else a local cluster)")
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


@contextlib.contextmanager
def dask_client(address: str | None, n_workers: int) -> Iterator[object]:
    """A Dask client for the run: the given or configured scheduler, else a temporary local cluster."""
    import dask
    from distributed import Client

    address = address or dask.config.get("scheduler-address", None)
    if address:
        with Client(address) as client:
            yield client
        return
    workers = os.cpu_count() or 1 if n_workers == -1 else max(1, n_workers)
    with Client(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as client:
        yield client


def _write(result, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    if out.suffix.lower() == ".csv":
        result.to_csv(tmp, index=False)
    else:
        result.to_parquet(tmp, index=False)
    os.replace(tmp, out)


def run(args: argparse.Namespace) -> int:
    from channelkit.forecast import forecast

    if args.out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise ConfigError(f"--out must end in .csv or .parquet, but got {args.out.name}")
    panel = _read_panel(args.panel) if args.panel else _dataset_panel(args.data, args.freq)
    models = args.models[0] if args.models == ["auto"] else args.models
    # A dataset's weekly panel starts its weeks on Monday; let the engine infer the anchor.
    freq = None if args.data and args.freq and args.freq.upper().startswith("W") else args.freq
    if args.scheduler and args.backend != "dask":
        raise ConfigError("--scheduler needs --backend dask")
    kw = dict(horizon=args.horizon, freq=freq, levels=args.level, models=models, n_windows=args.windows,
              backend=args.backend, n_jobs=args.n_jobs, progress=False)
    if args.backend == "dask":
        with dask_client(args.scheduler, args.n_jobs):
            result = forecast(panel, **kw)
    else:
        result = forecast(panel, **kw)
    _write(result, args.out)
    print(f"wrote {len(result)} rows ({result[['sku', 'channel']].drop_duplicates().shape[0]} series) to {args.out}")
    return 0
