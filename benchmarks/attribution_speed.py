"""Attribution at scale, side by side with the ChannelAttribution package (GPL, benchmark only).

Draws N journeys (default 1,000,000) over 11 channels from the sample's journey generator, builds
the path table, then times every channelkit model on it (all heuristics, Markov orders 1-3 with
exact removal effects, Shapley) and the package's ``heuristic_models`` and ``markov_model`` on the
same table. Prints one row per model: seconds for each tool, the time ratio, and for Markov the
largest absolute difference in attributed conversions over channels (ours is exact; the package
simulates, so the difference shrinks as its ``nsim_start`` grows; ``CA/ck`` is its time over ours). Peak memory
is the process's maximum resident set size.

    .venv/bin/python -m pip install ChannelAttribution   # or: make bench
    .venv/bin/python benchmarks/attribution_speed.py [--journeys 1000000] [--nsim 100000]
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from channelkit.attribution import heuristics as h
from channelkit.attribution.markov import markov
from channelkit.attribution.paths import build_journeys, path_table
from channelkit.attribution.shapley import shapley
from channelkit.data.sample.journeys import make_journeys

CHANNELS = ["search", "social", "kol", "email_sms", "affiliate", "display", "direct",
            "video", "app_push", "marketplace_ads", "coupon_site"]


def _journeys(n_journeys: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_orders = int(n_journeys * 0.2)
    start, end = pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31")
    orders = pd.DataFrame({"order_id": np.arange(n_orders).astype(str),
                           "customer_id": rng.integers(0, n_orders // 2, n_orders).astype(str),
                           "order_ts": start + pd.to_timedelta(rng.integers(0, 700 * 86400, n_orders), unit="s"),
                           "units": 1, "unit_price": rng.gamma(2.0, 60.0, n_orders)})
    touch, _ = make_journeys(rng, channels=CHANNELS, orders=orders, n_journeys=n_journeys, start=start, end=end)
    return build_journeys(touch, orders, lookback_days=14)


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


CA_KW = dict(var_path="path", var_conv="conversions", var_value="value", sep=">")
CA_HEURISTIC = {"first_touch": "first_touch_conversions", "last_touch": "last_touch_conversions",
                "linear": "linear_touch_conversions"}


def _heuristic_rows(ca, paths: pd.DataFrame, journeys: pd.DataFrame) -> float:
    """Time and compare the rule-based models and Shapley; print their rows; return our seconds."""
    ours_total, rows, results = 0.0, [], {}
    for name, fn, arg in [("first_touch", h.first_touch, paths), ("last_touch", h.last_touch, paths),
                          ("linear", h.linear, paths), ("last_non_direct", h.last_non_direct, paths),
                          ("position_based", h.position_based, paths), ("time_decay", h.time_decay, journeys),
                          ("shapley", shapley, paths)]:
        results[name], t = _timed(fn, arg)
        ours_total += t
        rows.append((name, t))
    ca_heur, t_ca = _timed(ca.heuristic_models, paths, **CA_KW)
    ca_heur = ca_heur.set_index("channel_name")
    for name, t in rows:
        ref, diff, t_ref = CA_HEURISTIC.get(name), "", "-"
        if ref:
            ours = results[name].set_index("channel")["conversions"].reindex(ca_heur.index)
            diff, t_ref = f"{(ca_heur[ref] - ours).abs().max():.3f}", f"{t_ca:.2f}*"
        print(f"{name:<16}{t:>14.2f}{t_ref:>16}{'':>8}{diff:>17}")
    print("* one heuristic_models call of the package computes first, last and linear together")
    return ours_total


def _markov_rows(ca, paths: pd.DataFrame, nsim: float, nsim_converged: float) -> float:
    """Time and compare Markov orders 1-3 (and a long order-1 run of the package); return our seconds."""
    ours_total = 0.0
    for k in (1, 2, 3):
        ours, t = _timed(markov, paths, order=k)
        ours_total += t
        ref, t_ref = _timed(ca.markov_model, paths, var_null="nulls", order=k, nsim_start=nsim, verbose=0, **CA_KW)
        diff = (ref.set_index("channel_name")["total_conversions"]
                - ours.set_index("channel")["conversions"]).abs().max()
        print(f"{'markov_o' + str(k):<16}{t:>14.2f}{t_ref:>16.2f}{t_ref / t:>8.1f}{diff:>17.1f}")
    if nsim_converged > 0:
        ours = markov(paths, order=1).set_index("channel")["conversions"]
        ref, t_ref = _timed(ca.markov_model, paths, var_null="nulls", order=1, nsim_start=nsim_converged,
                            conv_par=0.005, verbose=0, **CA_KW)
        diff = (ref.set_index("channel_name")["total_conversions"] - ours).abs().max()
        print(f"{'markov_o1':<16}{'':>14}{t_ref:>16.2f}{'':>8}{diff:>17.1f}   <- package with "
              f"nsim_start={nsim_converged:.0e}, conv_par=0.005: converging to the exact result")
    return ours_total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journeys", type=int, default=1_000_000)
    ap.add_argument("--nsim", type=float, default=1e5, help="ChannelAttribution nsim_start (its default 1e5)")
    ap.add_argument("--nsim-converged", type=float, default=2e6,
                    help="a second order-1 run of the package with this many simulations (0: skip)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    import ChannelAttribution as ca  # GPL: imported here only, never by channelkit

    journeys, t_build = _timed(_journeys, args.journeys, args.seed)
    paths, t_table = _timed(path_table, journeys)
    n = paths["conversions"].sum() + paths["nulls"].sum()
    print(f"{n:,.0f} journeys, {paths['conversions'].sum():,.0f} conversions, {len(paths):,} distinct paths, "
          f"{len(CHANNELS)} channels (journeys drawn and rebuilt in {t_build:.1f} s, path table {t_table:.1f} s)")
    print(f"\n{'model':<16}{'channelkit s':>14}{'ChannelAttr. s':>16}{'CA/ck':>8}{'max |diff| conv':>17}")
    ours_total = _heuristic_rows(ca, paths, journeys)
    ours_total += _markov_rows(ca, paths, args.nsim, args.nsim_converged)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"\nchannelkit, all models: {ours_total:.1f} s; peak memory of this process {peak_gb:.2f} GB "
          f"(includes the generator and the package); Markov difference in conversions out of "
          f"{paths['conversions'].sum():,.0f}")


if __name__ == "__main__":
    main()
