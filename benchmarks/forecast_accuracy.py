"""Accuracy benchmark: channelkit's default forecast against seasonal naive and default Prophet.

    .venv/bin/python benchmarks/forecast_accuracy.py --data /tmp/sample [--windows 3] [--prophet-series 40]

On the sample's daily panel (horizon 28 days) and weekly panel (horizon 8 weeks), with
``--windows`` rolling origins one horizon apart at the end of the history, each method forecasts
from the history up to the origin only (channelkit runs its whole procedure, inner backtest
included, inside each origin). Printed side by side: MASE (seasonal scale, m = 7 daily / 52
weekly), RMSSE (M5, m = 1), WAPE, bias, 80% and 95% interval coverage and the pinball loss of the
80% bounds (q = 0.1 and 0.9), with channelkit's MASE reduction against each baseline.
Prophet is fitted one series at a time with default settings (``Prophet()``), on every series
or, with ``--prophet-series N``, on the first N (all methods are then also scored on them).
Targets (issue 6, point 7): MASE >= 15% lower than seasonal naive and >= 10% lower than Prophet;
80% intervals covering 75-85% of actuals; 95% intervals covering 93-97%. ``channelkit_series`` is
channelkit with the per-series conformal intervals (``intervals="conformal_series"``): same point
forecasts, so only its coverage and pinball columns differ from ``channelkit``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from channelkit.forecast import forecast
from channelkit.forecast.prophet import prophet_forecast
from channelkit.metrics.forecast import evaluate, pinball

IDS = ["sku", "channel"]


def _origins(panel: pd.DataFrame, horizon: int, windows: int, freq: str) -> list[pd.Timestamp]:
    end = panel["date"].max()
    step = pd.tseries.frequencies.to_offset(freq) * horizon
    return sorted(end - step * k for k in range(1, windows + 1))


def _methods(history: pd.DataFrame, horizon: int, freq: str, n_jobs: int) -> dict[str, pd.DataFrame]:
    out, times = {}, {}
    t = time.perf_counter()
    out["seasonal_naive"] = forecast(history, horizon=horizon, freq=freq, models="seasonal_naive",
                                     festival_adjust=False, n_jobs=n_jobs, progress=False)
    times["seasonal_naive"] = time.perf_counter() - t
    t = time.perf_counter()
    out["prophet_default"] = prophet_forecast(history, horizon=horizon, freq=freq, default=True,
                                              n_jobs=n_jobs, progress=False)
    times["prophet_default"] = time.perf_counter() - t
    t = time.perf_counter()
    out["channelkit"] = forecast(history, horizon=horizon, freq=freq, n_jobs=n_jobs, progress=False)
    times["channelkit"] = time.perf_counter() - t
    t = time.perf_counter()
    # The same forecasts with the per-series conformal intervals (the default until session 3).
    out["channelkit_series"] = forecast(history, horizon=horizon, freq=freq, n_jobs=n_jobs, progress=False,
                                        intervals="conformal_series")
    times["channelkit_series"] = time.perf_counter() - t
    return out, times


def backtest(panel: pd.DataFrame, *, horizon: int, windows: int, freq: str, n_jobs: int) -> tuple[pd.DataFrame, dict]:
    """Forecasts of every method at every origin, joined to the actuals (long: one row per method)."""
    rows, total = [], {}
    for origin in _origins(panel, horizon, windows, freq):
        hist = panel[panel["date"] <= origin]
        fcs, times = _methods(hist, horizon, freq, n_jobs)
        for name, fc in fcs.items():
            total[name] = total.get(name, 0.0) + times[name]
            rows.append(fc.assign(method=name, cutoff=origin))
        print(f"  origin {origin.date()}: " + ", ".join(f"{k} {v:.0f}s" for k, v in times.items()), flush=True)
    fc = pd.concat(rows, ignore_index=True)
    actual = panel[[*IDS, "date", "units"]].rename(columns={"units": "actual"})
    fc = fc.merge(actual, on=[*IDS, "date"], how="left")
    fc["actual"] = fc["actual"].fillna(0.0).clip(lower=0)  # gaps are zero sales, returns clipped (as the engine)
    return fc, total


def score(fc: pd.DataFrame, history: pd.DataFrame, season_length: int) -> pd.DataFrame:
    """One row per method: the accuracy table plus pinball losses of the 80% bounds."""
    wide = fc.pivot_table(index=[*IDS, "cutoff", "date", "actual"], columns="method",
                          values=["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]).dropna()
    methods = list(fc["method"].unique())
    flat = wide["forecast"].copy()
    for m in methods:
        for b in ("lo_80", "hi_80", "lo_95", "hi_95"):
            flat[f"{m}_{b}"] = wide[b][m]
    flat = flat.reset_index()
    hist = history.assign(units=history["units"].clip(lower=0))
    table = evaluate(flat, methods, hist, season_length=season_length, levels=(80, 95), interval_models=methods,
                     id_cols=IDS).set_index("model")
    for q, b in ((0.1, "lo_80"), (0.9, "hi_80")):
        pl = pinball(flat, {m: f"{m}_{b}" for m in methods}, q, id_cols=IDS)
        table[f"pinball_{q:g}"] = pl[methods].mean()
    return table


def _panel(data: Path, freq: str) -> pd.DataFrame:
    from channelkit.data import daily_sales, load_dataset

    return daily_sales(load_dataset(data), freq=freq)[[*IDS, "date", "units"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="sample dataset folder")
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--prophet-series", type=int, default=0, help="score only the first N series (0: all)")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--only", choices=("daily", "weekly"), default=None)
    args = ap.parse_args()
    for label, freq, h, m in (("daily", "D", 28, 7), ("weekly", "W", 8, 52)):
        if args.only and args.only != label:
            continue
        panel = _panel(args.data, freq)
        if args.prophet_series:
            keep = panel[IDS].drop_duplicates().head(args.prophet_series)
            panel = panel.merge(keep, on=IDS)
        infer = None if freq == "D" else pd.infer_freq(pd.DatetimeIndex(sorted(panel["date"].unique())))
        print(f"\n{label}: {panel[IDS].drop_duplicates().shape[0]} series, horizon {h}, {args.windows} origins")
        fc, times = backtest(panel, horizon=h, windows=args.windows, freq=infer or "D", n_jobs=args.n_jobs)
        table = score(fc, panel, m)
        table["seconds"] = pd.Series(times)
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
            print(table)
        ck = table.loc["channelkit", "mase"]
        for base in ("seasonal_naive", "prophet_default"):
            print(f"  channelkit MASE is {100 * (1 - ck / table.loc[base, 'mase']):.1f}% lower than {base}")
        print(f"  channelkit 80% coverage {100 * table.loc['channelkit', 'coverage_80']:.1f}% (target 75-85%), "
              f"95% coverage {100 * table.loc['channelkit', 'coverage_95']:.1f}% (target 93-97%)")


if __name__ == "__main__":
    main()
