"""Scale benchmark: reconciling a large SKU x channel hierarchy, bottom-up against sparse MinT.

    .venv/bin/python benchmarks/reconcile_scale.py --data /tmp/h2/large --series 3000 [--n-jobs 2]
    .venv/bin/python benchmarks/reconcile_scale.py --panel large_daily.parquet --series 0   # all series

The engine run (3 rolling-origin windows + the final forecast, on the first ``--series`` SKU x
channel series of the sample's daily panel, whole SKUs first) and the aggregate nodes' run are the
slow part and are timed apart. Then, from the same runs, for each method: the time and peak memory of
:func:`channelkit.forecast.reconcile.compare_reconciliation` (each backtest window reconciled with
``W`` from the other windows, then scored) and of :func:`~channelkit.forecast.reconcile.reconcile`
(the final forecasts with intervals), and the backtest MASE per level (mean over nodes and
cutoffs, seasonal-naive scale, m = 7) and summed over levels, which is what ``method="auto"``
minimises. Methods: bottom-up; hierarchicalforecast's ``MinTraceSparse`` (``ols``, ``wls_struct``,
``wls_var``: what channelkit runs above ``max_nodes`` = 2,500 nodes); and, when the hierarchy has at
most ``--dense-max`` nodes (default 1,500: the dense non-negative programmes grow fast; at 3,606
nodes one dense method ran over 11 minutes, against 21 s sparse), the dense ``MinTrace``
(``wls_struct``, ``mint_shrink``) on the same hierarchy for reference. Peak memory is the largest resident size of this process and its workers
during a step (sampled every 0.2 s), so it includes the loaded panel and the runs.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from forecast_speed import PeakMemory  # same folder: python puts the script's folder on sys.path

from channelkit.forecast import run_forecast
from channelkit.forecast.hierarchy import structure
from channelkit.forecast.reconcile import aggregate_run, choose_method, compare_reconciliation, reconcile

IDS = ["sku", "channel"]
SPARSE = ("bottom_up", "ols", "wls_struct", "wls_var")
DENSE = ("wls_struct", "mint_shrink")


def _load(args: argparse.Namespace) -> pd.DataFrame:
    if args.panel is not None:
        return pd.read_parquet(args.panel, columns=[*IDS, "date", "units"])
    from channelkit.data import daily_sales, load_dataset

    return daily_sales(load_dataset(args.data, compact_labels=True))[[*IDS, "date", "units"]]


def _subset(panel: pd.DataFrame, n: int) -> pd.DataFrame:
    """The first ``n`` series in (sku, channel) order, so that most SKUs keep all their channels."""
    panel = panel.assign(**{c: panel[c].astype(str) for c in IDS})
    if not n:
        return panel
    keep = panel[IDS].drop_duplicates().sort_values(IDS).head(n)
    return panel.merge(keep, on=IDS)


def _timed(fn):
    """``fn()`` with its seconds and the peak memory (GB) while it ran."""
    t = time.perf_counter()
    with PeakMemory() as mem:
        out = fn()
    return out, time.perf_counter() - t, mem.peak_gb


def _method_row(run, base, method: str, max_nodes: int, n_jobs: int) -> tuple[dict, pd.DataFrame]:
    """Time, memory and backtest MASE by level of one method (``start_gb``: resident size before it)."""
    start = psutil.Process().memory_info().rss / 1024**3
    table, t_cmp, m_cmp = _timed(lambda: compare_reconciliation(run, base=base, methods=[method],
                                                                max_nodes=max_nodes, n_jobs=n_jobs))
    rec, t_rec, m_rec = _timed(lambda: reconcile(run, method=method, base=base, max_nodes=max_nodes, n_jobs=n_jobs))
    ours = table[table["method"] == method]
    row = {"method": method, "solver": ours["solver"].iloc[0] or "-", "backtest_s": t_cmp, "final_s": t_rec,
           "start_gb": start, "peak_gb": max(m_cmp, m_rec), **ours.set_index("level")["mase"].to_dict(),
           "min_forecast": rec["forecast"].min()}
    return row, table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="sample dataset folder (scale large)")
    src.add_argument("--panel", type=Path, help="or a Parquet daily panel with sku, channel, date, units")
    ap.add_argument("--series", type=int, default=3000, help="first N SKU x channel series (0: all)")
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--dense-max", type=int, default=1500, help="also run the dense MinT up to this many nodes")
    args = ap.parse_args()
    panel, t_load, m_load = _timed(lambda: _subset(_load(args), args.series))
    n_nodes = len(structure(panel, id_cols=IDS)[0])
    n_series = panel[IDS].drop_duplicates().shape[0]
    print(f"loaded {n_series} series x {panel['date'].nunique()} days in {t_load:.0f}s (peak {m_load:.2f} GB); "
          f"hierarchy of {n_nodes} nodes ({panel['sku'].nunique()} SKUs, {panel['channel'].nunique()} channels)")
    run, t_run, m_run = _timed(lambda: run_forecast(panel, horizon=args.horizon, n_jobs=args.n_jobs, progress=False))
    print(f"engine run (bottom series, 3 windows + forecast): {t_run:.0f}s, peak {m_run:.2f} GB", flush=True)
    base, t_base, m_base = _timed(lambda: aggregate_run(run, n_jobs=args.n_jobs))
    print(f"aggregate nodes' run ({n_nodes - n_series} nodes, needed by every MinT method): {t_base:.0f}s, "
          f"peak {m_base:.2f} GB")
    sparse_max = min(2500, n_nodes - 1)  # force the sparse solver even on a smaller subset
    rows, tables = [], []
    for m in SPARSE:
        row, table = _method_row(run, base, m, sparse_max, args.n_jobs)
        rows.append(row)
        print(f"  {m}: {row['backtest_s'] + row['final_s']:.0f}s", flush=True)
        tables.append(table if m == "bottom_up" else table[table["method"] == m])
    if n_nodes <= args.dense_max:
        for m in DENSE:
            row, _ = _method_row(run, base, m, n_nodes, args.n_jobs)
            rows.append({**row, "method": f"{m} (dense)"})
            print(f"  {m} (dense): {row['backtest_s'] + row['final_s']:.0f}s", flush=True)
    out = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(f"\nper method, from one run ({args.n_jobs} jobs): seconds to reconcile and score the backtest windows, "
          "seconds for the final forecasts with intervals, resident GB before the method (panel and runs) and "
          "peak GB while it ran, backtest MASE by level and summed over levels, smallest reconciled forecast")
    print(out.round(3).to_string(index=False))
    print(f"\nmethod='auto' above max_nodes would choose: {choose_method(pd.concat(tables, ignore_index=True))}")
    load, cores = psutil.getloadavg()[0], psutil.cpu_count()
    busy = "other jobs shared the machine: times are upper bounds" if load > cores else "the machine was otherwise idle"
    print(f"(load average {load:.1f} on {cores} cores at the end: {busy})")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
