"""The yearly season on daily data: time and accuracy of each route, side by side in one run.

    .venv/bin/python benchmarks/forecast_yearly.py --data /tmp/large --series 60 [--n-jobs 2]
    .venv/bin/python benchmarks/forecast_yearly.py --panel daily.parquet --series 60

On the first ``--series`` daily series (of a dataset's sales panel or a saved panel with ``sku,
channel, date, units``), each single model runs the engine's backtest (3 windows of ``--horizon``
days) and final forecast alone (``models=(name,)``, ``selection="best"``), then ``auto`` with its
default ``combo`` selection. Printed per row: seconds per series and mean MASE (seasonal-naive
scale, weekly season) over the backtest windows:

- ``mstl``: statsmodels STL with the weekly season, ETS on the rest;
- ``mstl_fourier``: least squares on 10 yearly Fourier harmonics, then the weekly MSTL
  (:mod:`channelkit.forecast.regression`), the route ``auto`` takes;
- ``mstl_yearly``: statsmodels STL with weekly and 365-day seasons (loess over a year);
- ``ets``, ``seasonal_naive`` for reference.

The question it answers (issue 14): is there a route to the yearly season of daily data that
costs about what the weekly MSTL costs, where ``mstl_yearly`` costs ~40x?
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from channelkit.forecast import run_forecast

IDS = ["sku", "channel"]
MODELS = ("seasonal_naive", "ets", "mstl", "mstl_fourier", "mstl_yearly")


def _load(args: argparse.Namespace) -> pd.DataFrame:
    if args.panel is not None:
        return pd.read_parquet(args.panel, columns=[*IDS, "date", "units"])
    from channelkit.data import daily_sales, load_dataset

    return daily_sales(load_dataset(args.data))[[*IDS, "date", "units"]]


def _mase(run, panel: pd.DataFrame) -> float:
    from channelkit.metrics.forecast import mase

    hist = panel.assign(units=panel["units"].clip(lower=0))
    bt = run.backtest
    return float(mase(bt, ["forecast"], hist, season_length=7, id_cols=IDS)["forecast"].mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path)
    src.add_argument("--panel", type=Path)
    ap.add_argument("--series", type=int, default=60)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args()
    panel = _load(args)
    keep = panel.groupby(IDS)["units"].sum().sort_values(ascending=False).head(args.series).reset_index()[IDS]
    panel = panel.merge(keep, on=IDS)
    n = len(keep)
    print(f"{n} daily series (highest volume) x {panel['date'].nunique()} days; horizon {args.horizon}, "
          f"3 backtest windows, n_jobs={args.n_jobs}")
    print(f"{'run':<28}{'s/series':>10}{'MASE':>8}")
    for name in [*args.models, "auto"]:
        kw = dict(models=(name,), selection="best") if name != "auto" else {}
        t = time.perf_counter()
        run = run_forecast(panel, horizon=args.horizon, n_jobs=args.n_jobs, progress=False, **kw)
        sec = (time.perf_counter() - t) / n
        print(f"{name:<28}{sec:>10.3f}{_mase(run, panel):>8.3f}")
    import psutil

    print(f"(load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores: other jobs shared the "
          "machine when above the core count, so times are upper bounds)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
