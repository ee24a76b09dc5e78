"""`channelkit forecast`: forecast a sales panel file or a dataset's sales panel.

    channelkit forecast --panel sales.csv --horizon 28 --level 80 95 --out forecast.csv
    channelkit forecast --data data/sample --horizon 8 --freq W-MON --out weekly.parquet
    channelkit forecast --panel big.parquet --horizon 28 --backend dask --scheduler tcp://host:8786 --out f.parquet

    channelkit forecast --panel m5_long.parquet --date-col date --id-cols item_id store_id --value-col sales \
        --horizon 28 --out m5_fc.parquet
    channelkit forecast --panel stores.csv --id-cols store --value-col sales --regressors promo open \
        --holidays DE --horizon 42 --out fc.csv

``--regressors COL ...`` names columns whose future values are known (promotion flags, planned
prices, store open): history rows carry the value, rows dated after the last observation carry the
plan with the value column empty. ``--holidays`` picks the festival calendar (``auto``, the default:
the Chinese festivals when the history shows their peaks, else none; ``CN``; a country code such as
``US`` or ``DE`` for its public holidays; ``none``); ``--events FILE`` adds custom events (CSV with
``event, start, end``, or a dataset's events table, whose ``festival`` rows are used). ``--selection``
(``combo``, ``shrink``, ``best``) and ``--top-k`` set how the backtest turns into each series' forecast.
The command prints which calendar it used and how many series were too short to backtest.

The panel (CSV or Parquet, one row per series and period) needs a date column, one or two series id
columns and a value column: by default ``date``, ``sku channel`` and ``units``; ``--date-col``,
``--id-cols`` and ``--value-col`` name others (only those columns are read). The frequency is
inferred when ``--freq`` is not given. The output (CSV or Parquet, by extension) has one row per
series and future date, under the panel's own names: ``<id cols>, <date col>, forecast, lo_<L>,
hi_<L>, model`` (by default ``sku, channel, date, ...``); it is written to a temporary file beside
``--out`` and renamed when complete, so a failed run leaves an earlier output intact.

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

DATE, IDS, VALUE = "date", ("sku", "channel"), "units"
HELP = "forecast units per SKU x channel from a panel file (--panel) or a dataset folder (--data)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--panel", type=Path, metavar="FILE",
                     help="panel CSV/Parquet with date, sku, channel, units (or the columns named below)")
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
    parser.add_argument("--date-col", default=None, metavar="COL", help="--panel's date column (default: date)")
    parser.add_argument("--id-cols", nargs="+", default=None, metavar="COL",
                        help="--panel's 1 or 2 series id columns (default: sku channel), e.g. item_id store_id, or id")
    parser.add_argument("--value-col", default=None, metavar="COL", help="--panel's value column (default: units)")
    parser.add_argument("--regressors", nargs="+", default=(), metavar="COL",
                        help="columns with known future values (plan rows after the last observation)")
    parser.add_argument("--holidays", default="auto", metavar="CODE",
                        help="festival calendar: auto (default), CN, a country code (US, DE, ...) or none")
    parser.add_argument("--events", type=Path, default=None, metavar="FILE",
                        help="custom events CSV: event, start, end (or date, event, kind: its festival rows)")
    parser.add_argument("--selection", choices=("combo", "shrink", "best"), default="combo",
                        help="combo: mean of each series' --top-k best backtested models (default); shrink; best")
    parser.add_argument("--top-k", type=int, default=3, metavar="K", help="models per combination (default: 3)")


def panel_columns(args: argparse.Namespace) -> tuple[str, tuple[str, ...], str]:
    """``(date_col, id_cols, value_col)`` from the options; the contract's names by default."""
    given = [opt for opt, v in (("--date-col", args.date_col), ("--id-cols", args.id_cols),
                                ("--value-col", args.value_col)) if v is not None]
    if args.data and given:
        raise ConfigError(f"{'/'.join(given)}: only with --panel; a --data folder's panel has date, sku, channel, "
                          "units")
    date_col, value_col = args.date_col or DATE, args.value_col or VALUE
    id_cols = tuple(args.id_cols or IDS)
    if len(id_cols) > 2:
        raise ConfigError(f"--id-cols takes 1 or 2 columns, but got {len(id_cols)}: {list(id_cols)}")
    named = [date_col, *id_cols, value_col]
    if len(set(named)) < len(named):
        raise ConfigError(f"--date-col, --id-cols and --value-col must name different columns, but got {named}")
    return date_col, id_cols, value_col


def _shown(columns: list[str], limit: int = 20) -> str:
    """The file's columns for an error message; a wide file (M5's d_1 ... d_1941) is cut short."""
    if len(columns) <= limit:
        return str(columns)
    return f"{columns[:limit]} and {len(columns) - limit} more"


def check_named_columns(have: list[str], named: dict[str, tuple[str, ...]], source: str) -> None:
    """Raise :class:`ConfigError` naming each option whose columns ``have`` lacks, with the file's columns."""
    problems = [f"{opt} {' '.join(cols)}: no column(s) {[c for c in cols if c not in have]}"
                for opt, cols in named.items() if any(c not in have for c in cols)]
    if problems:
        raise ConfigError(f"{'; '.join(problems)} in {source}; its columns are {_shown(have)}")


def _read_panel(path: Path, date_col: str, id_cols: tuple[str, ...], value_col: str, regressors: tuple[str, ...] = ()):
    """Read only the named columns of a panel file, ids as text (leading zeros kept)."""
    import pandas as pd
    import pyarrow.parquet as pq

    if not path.exists():
        raise ConfigError(f"--panel: file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ConfigError(f"--panel must be a .csv or .parquet file, but got {path.name}")
    csv = suffix == ".csv"
    have = [str(c) for c in (pd.read_csv(path, nrows=0).columns if csv else pq.read_schema(path).names)]
    named = {"--date-col": (date_col,), "--id-cols": id_cols, "--value-col": (value_col,)}
    check_named_columns(have, {**named, **({"--regressors": regressors} if regressors else {})}, path.name)
    columns = [date_col, *id_cols, value_col, *regressors]
    if csv:
        return pd.read_csv(path, usecols=columns, dtype={c: str for c in id_cols})
    panel = pd.read_parquet(path, columns=columns)
    return panel.astype({c: str for c in id_cols})


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


def _events(path: Path | None):
    import pandas as pd

    if path is None:
        return None
    if not path.exists():
        raise ConfigError(f"--events: file not found: {path}")
    return pd.read_csv(path)


def summary(run) -> list[str]:
    """The lines the command prints about a run: calendar used, short-history fallbacks."""
    notes = run.notes
    lines = [f"calendar: {notes['calendar']}" + (f"; regressors: {', '.join(notes['regressors'])}"
                                                  if notes["regressors"] else "")]
    if notes["short_history"]:
        how = ", ".join(f"{n} {k.split(':', 1)[1]}" for k, n in sorted(notes["short_history_models"].items()))
        lines.append(f"{notes['short_history']} series too short to backtest ({notes['short_history_reason']}): {how}")
    if notes["all_zero"]:
        lines.append(f"{notes['all_zero']} series without sales: forecast 0")
    return lines


def run(args: argparse.Namespace) -> int:
    from channelkit.forecast import run_forecast

    if args.out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise ConfigError(f"--out must end in .csv or .parquet, but got {args.out.name}")
    date_col, id_cols, value_col = panel_columns(args)
    regressors = tuple(args.regressors)
    if args.panel:
        panel = _read_panel(args.panel, date_col, id_cols, value_col, regressors)
    else:
        panel = _dataset_panel(args.data, args.freq)
    models = args.models[0] if args.models == ["auto"] else args.models
    # A dataset's weekly panel starts its weeks on Monday; let the engine infer the anchor.
    freq = None if args.data and args.freq and args.freq.upper().startswith("W") else args.freq
    if args.scheduler and args.backend != "dask":
        raise ConfigError("--scheduler needs --backend dask")
    kw = dict(horizon=args.horizon, freq=freq, levels=args.level, models=models, n_windows=args.windows,
              backend=args.backend, n_jobs=args.n_jobs, progress=False, date_col=date_col, id_cols=id_cols,
              value_col=value_col, regressors=regressors, holidays=args.holidays, events=_events(args.events),
              selection=args.selection, top_k=args.top_k)
    if args.backend == "dask":
        with dask_client(args.scheduler, args.n_jobs):
            fitted = run_forecast(panel, **kw)
    else:
        fitted = run_forecast(panel, **kw)
    result = fitted.forecast
    _write(result, args.out)
    for line in summary(fitted):
        print(line)
    print(f"wrote {len(result)} rows ({result[list(id_cols)].drop_duplicates().shape[0]} series) to {args.out}")
    return 0
