"""Speed benchmark: channelkit's full backtest + forecast against a plain loop of Prophet fits.

    .venv/bin/python benchmarks/forecast_speed.py --data /tmp/large [--prophet-series 20] [--n-jobs 2]
    .venv/bin/python benchmarks/forecast_speed.py --panel large_daily.parquet   # a saved daily panel

On the sample's daily panel (``large``: 10,000 SKU x channel series), one run of
:func:`channelkit.forecast.run_forecast` (3 rolling-origin windows of 28 days + the final 28-day
forecast with intervals, ``n_jobs`` processes) is timed with its peak memory (the largest sum of the
resident memory of this process and its worker processes, sampled every 0.2 s; loading is reported
apart). The analyst's usual choice, a plain ``for`` loop of
default ``Prophet()`` fits, does the same work (3 backtest fits + 1 final fit per series) on the
first ``--prophet-series`` series and is scaled per series. Printed from the same run: seconds per
series for each, their ratio, and MASE of both on those series' backtest windows (channelkit's
chosen model, whose choice saw those windows, and its ``ensemble``, which did not choose).
Targets (issue 6, point 8): >= 20x less time per series; whole run < 15 min and < 8 GB on 2 cores.
"""
from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from channelkit.forecast import run_forecast
from channelkit.forecast.prophet import quiet_prophet

IDS = ["sku", "channel"]


class PeakMemory:
    """Sample the resident memory of this process and all its children (workers) every 0.2 s.

    ``peak_gb`` is the largest sum seen while the block ran: what the machine must hold at once.
    """

    def __init__(self) -> None:
        self.peak_gb = 0.0
        self._stop = threading.Event()

    def _total(self) -> float:
        me = psutil.Process()
        procs = [me, *me.children(recursive=True)]
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:  # a worker ended between listing and reading
                pass
        return total / 1024**3

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak_gb = max(self.peak_gb, self._total())
            self._stop.wait(0.2)

    def __enter__(self) -> "PeakMemory":
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def prophet_loop(panel: pd.DataFrame, cutoffs: list[pd.Timestamp], horizon: int) -> tuple[pd.DataFrame, float]:
    """Default Prophet fitted per series and origin in a plain loop; returns forecasts and seconds."""
    from prophet import Prophet

    rows, t0 = [], time.perf_counter()
    for (sku, ch), g in panel.groupby(IDS):
        s = g.set_index("date")["units"].clip(lower=0)
        s = s.reindex(pd.date_range(s.index.min(), panel["date"].max()), fill_value=0)
        for cut in [*cutoffs, s.index.max()]:
            train = s[s.index <= cut]
            with quiet_prophet():
                m = Prophet().fit(pd.DataFrame({"ds": train.index, "y": train.to_numpy()}))
                fut = m.make_future_dataframe(horizon, include_history=False)
                yhat = m.predict(fut)["yhat"].clip(lower=0).to_numpy()
            rows.append(pd.DataFrame({"sku": sku, "channel": ch, "cutoff": cut, "date": fut["ds"], "prophet": yhat}))
    return pd.concat(rows, ignore_index=True), time.perf_counter() - t0


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished child processes (the fit workers)."""
    import os

    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _mase(bt: pd.DataFrame, history: pd.DataFrame, cols: list[str]) -> pd.Series:
    from channelkit.metrics.forecast import mase

    hist = history.assign(units=history["units"].clip(lower=0))
    return mase(bt, cols, hist, season_length=7, id_cols=IDS)[cols].mean()


def _load(args: argparse.Namespace) -> pd.DataFrame:
    if args.panel is not None:
        return pd.read_parquet(args.panel, columns=[*IDS, "date", "units"])
    from channelkit.data import daily_sales, load_dataset

    return daily_sales(load_dataset(args.data))[[*IDS, "date", "units"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="sample dataset folder (scale large)")
    src.add_argument("--panel", type=Path, help="or a Parquet daily panel with sku, channel, date, units")
    ap.add_argument("--prophet-series", type=int, default=20)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--series", type=int, default=0,
                    help="time channelkit on the first N series only and extrapolate linearly (0: all)")
    args = ap.parse_args()
    t = time.perf_counter()
    with PeakMemory() as load_mem:
        panel = _load(args)
    n_all = panel[IDS].drop_duplicates().shape[0]
    print(f"loaded {n_all} series x {panel['date'].nunique()} days in {time.perf_counter() - t:.0f}s "
          f"(peak {load_mem.peak_gb:.2f} GB while loading)")
    if args.series:
        panel = panel.merge(panel[IDS].drop_duplicates().head(args.series), on=IDS)
    n_series = panel[IDS].drop_duplicates().shape[0]
    t, cpu0 = time.perf_counter(), _cpu_seconds()
    with PeakMemory() as run_mem:
        run = run_forecast(panel, horizon=args.horizon, n_jobs=args.n_jobs, progress=False)
    ck_seconds, cpu = time.perf_counter() - t, _cpu_seconds() - cpu0
    print(f"channelkit: backtest (3 windows) + forecast of {n_series} series in {ck_seconds:.0f}s "
          f"({ck_seconds / 60:.1f} min), n_jobs={args.n_jobs}; peak memory of the run (main + workers) "
          f"{run_mem.peak_gb:.2f} GB")
    print(f"  CPU time of the run (main + workers) {cpu:.0f}s: {cpu / args.n_jobs / 60:.1f} min on {args.n_jobs} "
          "otherwise idle cores (what the wall time would be without other jobs)")
    print("  models chosen: " + ", ".join(f"{k} {v}" for k, v in run.selection["model"].value_counts().items()))
    keep = panel[IDS].drop_duplicates().head(args.prophet_series)
    sub = panel.merge(keep, on=IDS)
    cutoffs = sorted(run.backtest["cutoff"].unique())
    pr, pr_seconds = prophet_loop(sub, [pd.Timestamp(c) for c in cutoffs], args.horizon)
    bt = run.backtest.merge(keep, on=IDS).merge(pr, on=[*IDS, "cutoff", "date"], how="inner")
    per_ck, per_pr = ck_seconds / n_series, pr_seconds / len(keep)
    print(f"Prophet loop: {len(keep)} series x 4 fits in {pr_seconds:.0f}s -> {per_pr:.2f} s/series; "
          f"channelkit {per_ck:.3f} s/series; ratio {per_pr / per_ck:.1f}x (target >= 20x)")
    print(f"  Prophet loop scaled to {n_series} series: {per_pr * n_series / 3600:.1f} h")
    acc = _mase(bt, sub, ["forecast", "ensemble", "seasonal_naive", "prophet"])
    print(f"MASE on those {len(keep)} series' backtest windows: channelkit chosen {acc['forecast']:.3f} "
          f"(selection saw these windows), channelkit ensemble {acc['ensemble']:.3f} (did not choose), "
          f"seasonal naive {acc['seasonal_naive']:.3f}, Prophet {acc['prophet']:.3f}")
    if n_series < n_all:
        print(f"EXTRAPOLATED (timed {n_series} of {n_all} series): whole run ~{per_ck * n_all / 60:.0f} min")
        ck_seconds = per_ck * n_all
    load, cores = psutil.getloadavg()[0], psutil.cpu_count()
    busy = ("other jobs shared the machine: times are upper bounds" if load > cores
            else "the machine was otherwise idle")
    print(f"whole run under 15 min: {ck_seconds < 900}; under 8 GB: {run_mem.peak_gb < 8}  "
          f"(load average {load:.1f} on {cores} cores at the end: {busy})")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
