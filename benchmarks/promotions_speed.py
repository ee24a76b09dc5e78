"""Speed of the promotion analysis on a sample retailer (default: the ``large`` scale), side by side
with a peer: the same Poisson difference-in-differences written the usual way with the statsmodels
formula API (``smf.glm`` with ``C(date)`` dummies, counterfactual from ``predict`` with the event
dummies switched off), fitted on the same rows.

    .venv/bin/python benchmarks/promotions_speed.py [--data DIR | --scale large] [--seed 7]

Prints, from one run: wall and CPU time and peak memory (ru_maxrss of this process) of each step of
channelkit's pipeline (load_dataset, channel_daily_from_orders, evaluate_promotions for the channel
promotions and, separately, for the festivals, whose counterfactuals come from the forecasting
engine: one run per festival over the channel series), then for the channel promotions the
fitting time of channelkit vs the peer, their ratio, and how far apart their incremental-unit
estimates are (they should agree to rounding: same model, same rows).
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings

import numpy as np
import pandas as pd


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(label: str, func, *args, **kwargs):
    """Run and print wall time, CPU time (this process; on a busy machine wall time >> CPU time) and
    peak memory so far."""
    start, cpu = time.perf_counter(), time.process_time()
    out = func(*args, **kwargs)
    print(f"{label:<26} wall {time.perf_counter() - start:8.1f} s   cpu {time.process_time() - cpu:8.1f} s   "
          f"peak RSS {_rss_mb():8.0f} MB", flush=True)
    return out


def _peer_incremental(rows: pd.DataFrame, treated_ch: str) -> float:
    """The formula-API version: units ~ day dummies + channel x (dow, trend) + treated-day dummies."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from threadpoolctl import threadpool_limits

    frame = rows.assign(dow=rows["date"].dt.dayofweek, t=(rows["date"] - rows["date"].min()).dt.days / 365.25,
                        ev=np.where((rows["channel"] == treated_ch) & (rows["phase"] != "pre"),
                                    rows["phase"] + rows["date"].dt.strftime("%m%d"), "none"))
    formula = "units ~ 0 + C(date) + C(channel) + C(channel):C(dow) + C(channel):t + C(ev, Treatment('none'))"
    # The same thread budget as channelkit's fits (one BLAS thread): on a shared 2-core machine more
    # threads only oversubscribe it, and the ratio should compare the methods, not the threading.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")
        res = smf.glm(formula, data=frame, family=sm.families.Poisson()).fit(scale="X2")
    event = frame[(frame["ev"] != "none") & (frame["phase"] == "event")]
    return float(event["units"].sum() - res.predict(event.assign(ev="none")).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="an existing sample folder (default: generate one)")
    parser.add_argument("--scale", default="large", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from channelkit.data import load_dataset
    from channelkit.promotions import channel_daily_from_orders, evaluate_promotions, event_windows
    from channelkit.promotions.estimate import _pre_start, _window_rows, excluded_days, promotion_effect

    data = args.data
    if data is None:
        from channelkit.data.sample import generate

        data = _timed(f"generate ({args.scale})", generate, tempfile.mkdtemp(prefix="promo-bench-"), seed=args.seed,
                      scale=args.scale)
    ds = _timed("load_dataset", load_dataset, data)
    print(f"  orders: {len(ds.orders):,} lines, {ds.orders['sku'].nunique():,} SKUs")
    daily = _timed("channel_daily_from_orders", channel_daily_from_orders, ds.orders, products=ds.products,
                   channels=ds.channels)
    promos = _timed("evaluate (promotions)", evaluate_promotions, daily, ds.events, marketing=ds.marketing,
                    kinds=("promotion",))
    fests = _timed("evaluate (festivals)", evaluate_promotions, daily, ds.events, marketing=ds.marketing,
                   kinds=("festival",))
    for label, result in (("promotions", promos), ("festivals", fests)):
        print(f"  {label}: {len(result)} event rows, {int((result['note'] == '').sum())} estimated")
    occurrences = fests[["event", "start"]].drop_duplicates().shape[0]
    print(f"  festivals: {occurrences} occurrences, each one forecasting-engine run over "
          f"{daily['channel'].nunique()} channel series")

    windows = event_windows(ds.events, kinds=("promotion", "festival", "holiday"))
    dates = pd.date_range(daily["date"].min(), daily["date"].max())
    channels = sorted(daily["channel"].unique())
    ours = peer = 0.0  # CPU seconds of the fits alone
    gaps = []
    for idx, window in windows[windows["kind"] == "promotion"].iterrows():
        excluded = excluded_days(windows, idx, post_days=7, dates=dates, channels=channels)
        t0 = time.process_time()
        fit, _, _ = promotion_effect(daily, window, excluded)
        ours += time.process_time() - t0
        lo = _pre_start(~excluded[window["channel"]], window["start"], 56)
        rows = _window_rows(daily, window["start"], window["end"], lo=lo, post_days=7)
        clean = ~excluded.stack().reindex(pd.MultiIndex.from_frame(rows[["date", "channel"]])).fillna(False)
        rows = rows[clean.to_numpy(dtype=bool)]
        t0 = time.process_time()
        value = _peer_incremental(rows, window["channel"])
        peer += time.process_time() - t0
        gaps.append(abs(value - fit.incremental.value) / max(abs(fit.incremental.value), 1.0))
    n = len(gaps)
    print(f"\nchannel promotions: {n}")
    print(f"{'fit + interval (cpu)':<22} channelkit {ours:7.2f} s   statsmodels formula GLM {peer:7.2f} s   "
          f"ratio peer/channelkit {peer / ours:5.1f}x")
    print(f"incremental units, channelkit vs peer: max relative difference {max(gaps):.2e}")


if __name__ == "__main__":
    main()
