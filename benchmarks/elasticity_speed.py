"""Speed of the vectorised elasticity engine against a plain per-series statsmodels loop.

    python benchmarks/elasticity_speed.py --data /tmp/large            # a generated `large` sample
    python benchmarks/elasticity_speed.py --panel panel.parquet --subset 300

Times ``estimate_elasticities`` (PPML, channel x category x date effects, series trends) on every
SKU x channel pair, then a per-series loop of statsmodels (log units on log price, day-of-week
dummies and a trend, on selling days: the usual spreadsheet-grade fit) on ``--subset`` pairs,
scaled to all pairs, and the same model fitted by pyfixest (``engine="pyfixest"``) against channelkit
on all channels of ``--pyfixest-skus`` SKUs of one category (pyfixest builds one dense column per
pair, so it cannot take all pairs of ``large``). Prints the times and their
ratios from the same run, the largest gaps between the two engines' estimates and standard errors,
and, when the folder has a ``truth.json``, the accuracy against the generator's elasticities.
Target (issue 8, point 5): all pairs of the large sample in under 2 minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd


def load_panel(args: argparse.Namespace) -> pd.DataFrame:
    if args.panel:
        return pd.read_parquet(args.panel) if args.panel.suffix == ".parquet" else pd.read_csv(args.panel)
    from channelkit.data import daily_sales, load_dataset

    dataset = load_dataset(args.data)
    return daily_sales(dataset).merge(dataset.products[["sku", "category"]], on="sku")


def statsmodels_loop(panel: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """One OLS per series: log units ~ log price + day-of-week dummies + trend, selling days only."""
    import statsmodels.api as sm

    rows = []
    grouped = panel[panel["units"] > 0].groupby(["sku", "channel"])
    for sku, channel in pairs.itertuples(index=False):
        g = grouped.get_group((sku, channel))
        dates = pd.to_datetime(g["date"])
        X = pd.get_dummies(dates.dt.dayofweek, prefix="dow", drop_first=True, dtype=float)
        X["trend"] = (dates - dates.min()).dt.days.to_numpy() / 365.25
        X["log_price"] = np.log(g["price"].to_numpy())
        fit = sm.OLS(np.log(g["units"].to_numpy()), sm.add_constant(X.to_numpy())).fit(cov_type="HC1")
        rows.append((sku, channel, fit.params[-1], fit.bse[-1]))
    return pd.DataFrame(rows, columns=["sku", "channel", "elasticity", "se"])


def pyfixest_side_by_side(panel: pd.DataFrame, n_skus: int) -> None:
    """Both engines on all channels of the first SKUs of one category: CPU time and agreement."""
    from channelkit.elasticity import estimate_elasticities

    if n_skus < 1:
        return
    if "category" in panel.columns:
        panel = panel[panel["category"] == sorted(panel["category"].unique())[0]]
    part = panel[panel["sku"].isin(sorted(panel["sku"].unique())[:n_skus])]
    t0 = time.process_time()
    ours = estimate_elasticities(part)
    t_ours = time.process_time() - t0
    t0 = time.process_time()
    lib = estimate_elasticities(part, engine="pyfixest")
    t_lib = time.process_time() - t0
    ok = ours["status"].eq("ok")
    print(f"same model on {len(ours):,} pairs of {part['sku'].nunique()} SKUs (CPU): "
          f"channelkit {t_ours:.1f} s, pyfixest {t_lib:.1f} s, ratio {t_lib / max(t_ours, 1e-9):.1f}x; "
          f"max |estimate gap| {(lib['elasticity'] - ours['elasticity'])[ok].abs().max():.1e}, "
          f"max relative se gap {(lib['se'] / ours['se'] - 1)[ok].abs().max():.1e}")


def accuracy(est: pd.DataFrame, truth: pd.DataFrame, level: float = 0.90) -> str:
    from scipy import stats

    m = est.merge(truth, on=["sku", "channel"], suffixes=("", "_true")).dropna(subset=["elasticity"])
    z = stats.norm.ppf(0.5 + level / 2)
    covered = (m["elasticity"] - z * m["se"] <= m["elasticity_true"]) & (m["elasticity_true"] <= m["elasticity"] + z * m["se"])
    err = (m["elasticity"] - m["elasticity_true"]).abs()
    return f"median |error| {err.median():.3f}, 90% coverage {covered.mean():.1%} over {len(m)} pairs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="dataset folder (e.g. a generated large sample)")
    src.add_argument("--panel", type=Path, help="panel CSV/Parquet with date, sku, channel, units, price")
    parser.add_argument("--subset", type=int, default=300, help="pairs timed in the statsmodels loop")
    parser.add_argument("--pyfixest-skus", type=int, default=40,
                        help="SKUs of the first category fitted by both engines (0: skip)")
    args = parser.parse_args()
    from channelkit.elasticity import estimate_elasticities

    t0 = time.perf_counter()
    panel = load_panel(args)
    print(f"panel: {len(panel):,} rows, {panel[['sku', 'channel']].drop_duplicates().shape[0]:,} pairs, "
          f"{panel['date'].nunique()} periods (loaded in {time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    est = estimate_elasticities(panel)
    ours = time.perf_counter() - t0
    n_pairs = len(est)
    pairs = est[["sku", "channel"]].sample(min(args.subset, n_pairs), random_state=0)
    t0 = time.perf_counter()
    loop = statsmodels_loop(panel, pairs)
    per_pair = (time.perf_counter() - t0) / len(pairs)
    print(f"channelkit (vectorised PPML, all {n_pairs:,} pairs): {ours:8.1f} s")
    print(f"statsmodels per-series OLS loop ({len(pairs)} pairs timed, scaled to {n_pairs:,}): "
          f"{per_pair * n_pairs:8.1f} s")
    print(f"ratio (loop / channelkit): {per_pair * n_pairs / ours:.1f}x; target < 120 s: "
          f"{'met' if ours < 120 else 'NOT met'}")
    pyfixest_side_by_side(panel, args.pyfixest_skus)
    truth_file = (args.data / "truth.json") if args.data else None
    if truth_file is not None and truth_file.exists():
        truth = pd.DataFrame(json.loads(truth_file.read_text())["elasticity"])[["sku", "channel", "elasticity"]]
        print("accuracy, channelkit:       " + accuracy(est, truth))
        print("accuracy, statsmodels loop: " + accuracy(loop, truth))


if __name__ == "__main__":
    main()
