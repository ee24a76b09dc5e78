"""Own-price elasticities on real scanner data: channelkit's designs next to the standard per-brand
specifications, on product x store x week panels of The Complete Journey (see completejourney_panel.py
for source, licence and construction).

    pip install 'channelkit[bench]'
    PYTHONPATH=. python benchmarks/real/elasticity_completejourney.py --categories "SOFT DRINKS" CHEESE

Columns per product: the standard per-brand log-log OLS with store FE and with store + week FE
(controls: discount share, display, mailer), then channelkit (PPML, same controls, zero weeks
unobserved) with the period-effect designs: ``auto`` (SKU x week, the default) and
``store`` (store x week shared by the category's products, the earlier default). Last lines: the
median absolute gap of each design to the standard range and how many products fall within 0.3 of it.
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from completejourney_panel import category_panel

from channelkit.elasticity import estimate_elasticities
from channelkit.elasticity.standard import standard_elasticities

CONTROLS = ["discount", "display", "mailer"]


def compare(category: str, *, min_weeks: int) -> pd.DataFrame:
    panel = category_panel(category, min_weeks=min_weeks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cols = {
            "std_store": standard_elasticities(panel, controls=CONTROLS, week_effects=False, gaps="missing"),
            "std_store_week": standard_elasticities(panel, controls=CONTROLS, gaps="missing"),
            "ck_auto": estimate_elasticities(panel, by=("sku",), controls=CONTROLS, gaps="missing", trend=False),
            "ck_store_week": estimate_elasticities(panel, by=("sku",), controls=CONTROLS, gaps="missing",
                                                   time_by=("channel",), trend=False),
            "ck_auto_ols": estimate_elasticities(panel, by=("sku",), controls=CONTROLS, gaps="missing",
                                                 trend=False, method="ols"),
        }
    out = pd.DataFrame({k: v.set_index("sku")["elasticity"] for k, v in cols.items()})
    out.insert(0, "units", panel.groupby("sku")["units"].sum())
    out.insert(0, "category", category)
    return out.sort_values("units", ascending=False)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    lo = table[["std_store", "std_store_week"]].min(axis=1)
    hi = table[["std_store", "std_store_week"]].max(axis=1)
    rows = []
    for col in ("ck_auto", "ck_store_week", "ck_auto_ols"):
        gap = np.maximum(lo - table[col], 0) + np.maximum(table[col] - hi, 0)
        ok = gap.notna()
        rows.append({"design": col, "median_gap_to_standard": float(gap[ok].median()),
                     "within_0.3": f"{int((gap[ok] <= 0.3).sum())} of {int(ok.sum())}",
                     "median_elasticity": float(table[col].median())})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--categories", nargs="+", default=["SOFT DRINKS", "CHEESE"])
    ap.add_argument("--min-weeks", type=int, default=20)
    args = ap.parse_args()
    table = pd.concat([compare(c, min_weeks=args.min_weeks) for c in args.categories])
    pd.set_option("display.width", 160)
    print(table.round(2).to_string())
    print(summary(table).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
