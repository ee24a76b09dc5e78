"""How long the customer analyses take on a large shop, side by side with lifetimes on the same data.

Usage::

    .venv/bin/python benchmarks/customers_speed.py --data /tmp/h2/large      # an existing dataset
    .venv/bin/python benchmarks/customers_speed.py --scale small              # generate a sample first

Prints, per step, wall time, CPU time (user + system of this process: the machine may be shared,
so CPU time is the steadier figure) and peak resident memory during the step. The CLV steps are
then repeated with lifetimes (``pip install 'channelkit[bench]'``; MIT, archived) on the *same*
summary frame: its ``BetaGeoFitter`` with ``weights`` (customers with identical (x, t_x, T)
grouped, as its documentation recommends for large data), ``GammaGammaFitter`` and
``customer_lifetime_value``; the script prints the time ratios from this one run and the largest
relative difference of the fitted parameters. By default only the ``orders`` table is read
(pandas, the columns the customer engines use); ``--loader`` goes through the validating
``channelkit.data.load_dataset`` instead (slower, much more memory).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

ROWS: list[tuple[str, float, float, float]] = []  # (step, wall s, cpu s, peak MB)
ORDER_COLUMNS = ["order_id", "order_ts", "customer_id", "channel", "units", "unit_price", "status"]


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@contextmanager
def timed(step: str):
    """Wall and CPU seconds of the block, and the peak RSS sampled every 20 ms while it runs."""
    peak, done = [_rss_mb()], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _rss_mb())

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        done.set()
        watcher.join()
        peak[0] = max(peak[0], _rss_mb())
        ROWS.append((step, wall, cpu, peak[0]))
        print(f"{step:<50} wall {wall:7.1f} s   cpu {cpu:7.1f} s   peak {peak[0]:7,.0f} MB", flush=True)


def read_orders(data_dir: Path, loader: bool) -> pd.DataFrame:
    if loader:
        from channelkit.data import load_dataset

        with timed("load dataset (validating loader)"):
            return load_dataset(data_dir).require("orders")
    path = next(iter(sorted(Path(data_dir).glob("orders.*"))))
    with timed("read orders table (pandas, 7 columns)"):
        if path.suffix == ".parquet":
            return pd.read_parquet(path, columns=ORDER_COLUMNS)
        return pd.read_csv(path, usecols=ORDER_COLUMNS, parse_dates=["order_ts"], dtype={"customer_id": str})


def channelkit_steps(orders: pd.DataFrame, time_unit: str, export_dir: Path):
    from channelkit import customers as ck

    with timed("purchases from order lines (customer_orders)"):
        purchases = ck.customer_orders(orders)
    print(f"  {len(orders):,} order lines -> {len(purchases):,} purchases by "
          f"{len(purchases['customer_id'].cat.categories):,} customers", flush=True)
    with timed("cross-channel view, summary, 复购率, overlap"):
        view = ck.customer_view(purchases)
        ck.cross_channel_summary(view)
        ck.repeat_rate_by_channel(view)
        ck.channel_overlap(purchases)
    del view
    with timed("RFM scores, segments, segment summary"):
        rfm = ck.rfm_table(purchases)
        ck.segment_summary(rfm)
    with timed("cohort retention by first channel (monthly)"):
        ck.cohort_retention(purchases)
    with timed("repurchase curves (Kaplan-Meier, by channel)"):
        ck.repurchase_curve(purchases)
    with timed("CLV: rfm_summary (repeat purchase days)"):
        summary = ck.rfm_summary(purchases, time_unit=time_unit)
    with timed("CLV: fit BG/NBD + Gamma-Gamma (MLE)"):
        fit = ck.fit_clv(summary, time_unit=time_unit)
    with timed("CLV: p_alive, expected purchases, 12-month CLV"):
        values = ck.predict_clv(fit, summary)
    with timed("segment export, every customer (pseudonyms, CSV)"):
        scores = rfm[["customer_id", "rfm", "segment"]]
        if values["customer_id"].equals(scores["customer_id"]):  # same customers, same order (as the CLI)
            table = pd.concat([values, scores.drop(columns="customer_id")], axis=1)
        else:
            table = values.merge(scores, on="customer_id")
        ck.export_segments(table, export_dir / "segments.csv", key="benchmark-key")
    return summary, fit, values


def lifetimes_steps(summary: pd.DataFrame, time_unit: str):
    try:
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    except ImportError:
        print("\nlifetimes is not installed (pip install 'channelkit[bench]'): no peer figures")
        return None
    with timed("lifetimes: fit BetaGeo (weights) + GammaGamma"):
        grouped = summary.groupby(["frequency", "recency", "T"]).size().rename("weight").reset_index()
        bg = BetaGeoFitter().fit(grouped["frequency"], grouped["recency"], grouped["T"],
                                 weights=grouped["weight"])
        rep = summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    with timed("lifetimes: 12-month CLV (customer_lifetime_value)"):
        clv = gg.customer_lifetime_value(bg, summary["frequency"], summary["recency"], summary["T"],
                                         summary["monetary_value"], time=12, discount_rate=0.01, freq=time_unit)
    return {**bg.params_.to_dict(), **gg.params_.to_dict()}, np.asarray(clv, dtype=float)


def report(fit, values: pd.DataFrame, peer) -> None:
    steps = {name: (wall, cpu) for name, wall, cpu, _ in ROWS}
    ours = [k for k in steps if not k.startswith(("lifetimes", "generate", "load", "read"))]
    wall, cpu = (sum(steps[k][i] for k in ours) for i in (0, 1))
    print(f"\nchannelkit customer analyses after loading: wall {wall:.0f} s ({wall / 60:.1f} min), "
          f"cpu {cpu:.0f} s ({cpu / 60:.1f} min); peak memory {max(r[3] for r in ROWS):,.0f} MB")
    if peer is None:
        return
    params, peer_clv = peer
    pairs = [("fit", "CLV: fit BG/NBD + Gamma-Gamma (MLE)", "lifetimes: fit BetaGeo (weights) + GammaGamma"),
             ("CLV", "CLV: p_alive, expected purchases, 12-month CLV",
              "lifetimes: 12-month CLV (customer_lifetime_value)")]
    print(f"{'same summary data':<20}{'channelkit cpu':>16}{'lifetimes cpu':>16}{'ratio ck/lt':>14}")
    for label, ck_step, lt_step in pairs:
        print(f"{label:<20}{steps[ck_step][1]:>14.1f} s{steps[lt_step][1]:>14.1f} s"
              f"{steps[ck_step][1] / steps[lt_step][1]:>14.3f}")
    ck_params = {**fit.bgnbd_params, **fit.gamma_gamma_params}
    print("parameters (channelkit / lifetimes): "
          + "  ".join(f"{k}={ck_params[k]:.6g}/{params[k]:.6g}" for k in ck_params))
    diff = max(abs(ck_params[k] - params[k]) / abs(params[k]) for k in ck_params)
    clv_diff = np.nanmax(np.abs(values["clv"].to_numpy() - peer_clv) / np.maximum(np.abs(peer_clv), 1e-9))
    print(f"largest relative difference: parameters {diff:.2e}, per-customer CLV {clv_diff:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="dataset folder (default: generate --scale)")
    parser.add_argument("--scale", default="small", help="sample scale to generate when --data is not given")
    parser.add_argument("--time-unit", default="W", choices=("D", "W"))
    parser.add_argument("--loader", action="store_true", help="read through the validating load_dataset")
    parser.add_argument("--no-peer", action="store_true", help="skip the lifetimes comparison")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ck_customers_"))
    data_dir = args.data
    if data_dir is None:
        from channelkit.data.sample import generate

        data_dir = scratch / args.scale
        with timed(f"generate the {args.scale} sample"):
            generate(data_dir, seed=7, scale=args.scale)
    orders = read_orders(data_dir, args.loader)
    summary, fit, values = channelkit_steps(orders, args.time_unit, scratch)
    del orders
    print(f"  repeat customers {fit.diagnostics['repeat_customers']:,} of {fit.diagnostics['customers']:,}; "
          f"distinct (x, t_x, T) histories {len(summary.groupby(['frequency', 'recency', 'T'])):,}", flush=True)
    peer = None if args.no_peer else lifetimes_steps(summary, args.time_unit)
    report(fit, values, peer)


if __name__ == "__main__":
    main()
