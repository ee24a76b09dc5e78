"""How long the customer analyses take, side by side with the archived reference (lifetimes).

Usage::

    .venv/bin/python benchmarks/customers_speed.py --data DIR          # an existing dataset
    .venv/bin/python benchmarks/customers_speed.py --scale large       # generate the sample first

Prints one line per step (seconds), then the CLV pipeline next to lifetimes' (``pip install
'channelkit[bench]'``; MIT, archived) on the same purchases: time ratio and the largest relative
difference of the fitted parameters. Timings come from one run on this machine; on a shared
machine compare the ratios, not the absolute seconds.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


TIMES: dict[str, float] = {}


@contextmanager
def timed(step: str):
    t0 = time.perf_counter()
    yield
    TIMES[step] = time.perf_counter() - t0
    print(f"{step:<42} {TIMES[step]:8.1f} s", flush=True)


def read_orders(data_dir: Path, validate: bool):
    """The orders table: through the validating loader, or (``--no-validate``) straight from its file."""
    import pandas as pd

    if validate:
        from channelkit.data import load_dataset

        with timed("load dataset (validating loader)"):
            return load_dataset(data_dir).require("orders")
    path = next(p for p in sorted(Path(data_dir).glob("orders.*")))
    columns = ["order_id", "order_ts", "customer_id", "channel", "units", "unit_price", "status"]
    with timed("read orders file (no validation)"):
        return pd.read_parquet(path, columns=columns) if path.suffix == ".parquet" else pd.read_csv(path)


def channelkit_steps(data_dir: Path, time_unit: str, validate: bool):
    from channelkit import customers as ck

    orders = read_orders(data_dir, validate)
    with timed("purchases from order lines"):
        purchases = ck.customer_orders(orders)
    print(f"  {len(orders):,} order lines, {len(purchases):,} purchases, "
          f"{purchases['customer_id'].nunique():,} customers")
    del orders
    with timed("customer view + cross-channel summary"):
        ck.cross_channel_summary(ck.customer_view(purchases))
    with timed("RFM scores and segments"):
        ck.rfm_table(purchases)
    with timed("cohort retention by first channel"):
        ck.cohort_retention(purchases)
    with timed("repurchase curves (Kaplan-Meier)"):
        ck.repurchase_curve(purchases)
    with timed("CLV: rfm_summary (repeat purchase days)"):
        summary = ck.rfm_summary(purchases, time_unit=time_unit)
    with timed("CLV: fit BG/NBD + Gamma-Gamma (MLE)"):
        fit = ck.fit_clv(summary, time_unit=time_unit)
    with timed("CLV: p_alive, expected purchases, 12-month CLV"):
        ck.predict_clv(fit, summary)
    return purchases, fit


def lifetimes_steps(purchases, time_unit: str):
    try:
        from lifetimes import BetaGeoFitter, GammaGammaFitter
        from lifetimes.utils import summary_data_from_transaction_data
    except ImportError:
        print("lifetimes is not installed (pip install 'channelkit[bench]'): no peer figures")
        return None
    with timed("lifetimes: summary_data_from_transaction_data"):
        summary = summary_data_from_transaction_data(
            purchases, "customer_id", "order_ts", monetary_value_col="revenue", freq="D",
            freq_multiplier=7 if time_unit == "W" else 1)
    with timed("lifetimes: fit BetaGeo + GammaGamma"):
        bg = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        rep = summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    with timed("lifetimes: 12-month CLV"):
        gg.customer_lifetime_value(bg, summary["frequency"], summary["recency"], summary["T"],
                                   summary["monetary_value"], time=12, discount_rate=0.01, freq=time_unit)
    return {**bg.params_.to_dict(), **gg.params_.to_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="dataset folder (default: generate --scale)")
    parser.add_argument("--scale", default="large", help="sample scale to generate when --data is not given")
    parser.add_argument("--time-unit", default="W", choices=("D", "W"))
    parser.add_argument("--no-validate", action="store_true",
                        help="read orders straight from the file instead of the validating loader")
    args = parser.parse_args()
    data_dir = args.data
    if data_dir is None:
        from channelkit.data.sample import generate

        data_dir = Path(tempfile.mkdtemp(prefix="ck_customers_")) / args.scale
        with timed(f"generate the {args.scale} sample"):
            generate(data_dir, seed=7, scale=args.scale)
    purchases, fit = channelkit_steps(data_dir, args.time_unit, not args.no_validate)
    ours = {**fit.bgnbd_params, **fit.gamma_gamma_params}
    peer = lifetimes_steps(purchases, args.time_unit)
    analyses = sum(v for k, v in TIMES.items() if not k.startswith(("lifetimes", "generate", "load", "read", "import")))
    print(f"\nchannelkit customer analyses (after loading): {analyses:.1f} s = {analyses / 60:.1f} min")
    if peer:
        clv_ours = sum(TIMES[k] for k in TIMES if k.startswith("CLV"))
        clv_peer = sum(TIMES[k] for k in TIMES if k.startswith("lifetimes"))
        diff = max(abs(ours[k] - peer[k]) / abs(peer[k]) for k in ours)
        print(f"CLV pipeline: channelkit {clv_ours:.1f} s, lifetimes {clv_peer:.1f} s, ratio {clv_ours / clv_peer:.2f}")
        print("parameters   " + "  ".join(f"{k}={ours[k]:.4g}/{peer[k]:.4g}" for k in ours))
        print(f"largest relative parameter difference vs lifetimes: {diff:.2e}")
    print(f"repeat customers: {fit.diagnostics['repeat_customers']:,} of {fit.diagnostics['customers']:,}; "
          f"spend-frequency correlation {fit.diagnostics['spend_frequency_correlation']:.3f}")


if __name__ == "__main__":
    main()
