"""Real-data accuracy benchmark: every model of the engine, ``auto``, seasonal naive and default Prophet.

    PYTHONPATH=. .venv/bin/python benchmarks/real/run.py [--dataset cj_daily|walmart_weekly|all]
        [--series 150] [--origins N] [--plan] [--no-prophet] [--out results.csv]

Rolling-origin evaluation: ``--origins`` cutoffs one horizon apart at the end of the data; at each,
every method forecasts ``horizon`` periods from the history up to the cutoff only (the engine runs
its whole procedure, inner backtest and choice included, inside each origin). Printed side by
side per dataset: mean MASE (seasonal scale: m = 7 daily, 52 weekly), mean RMSSE (M5, m = 1),
pooled WAPE, pooled 80%/95% interval coverage and wall time summed over the origins.

Methods: each single model of :data:`channelkit.forecast.models.MODEL_NAMES` (``models=[name]``,
intervals by the engine's default conformal rule; ``arima`` only on weekly data, it is too slow on
daily), ``auto`` (the engine's default: its candidates and ``selection="combo"``), ``auto_best`` and
``auto_shrink`` (the other selection rules), ``auto+lgbm`` (auto's candidates plus the global
model), and ``prophet_default`` (``Prophet()`` per series, a plain loop of fits). With ``--plan``
on a dataset with a promotion calendar, also ``auto+plan``, ``lgbm+plan``, ``auto+lgbm+plan``
(the engine's ``regressors=``) and ``prophet+plan`` (``Prophet()`` with the calendar columns as
extra regressors), each given the calendar's true future values. ``mean(auto,lgbm)`` (and its ``+plan``
twin) is the post-hoc equal-weight mean of the two rows' point forecasts (no intervals).

Datasets (:mod:`datasets`, shipped inside packages, no download): ``cj_daily`` (Complete Journey,
``--series`` products with the most selling days, 365 days, horizon 28, display/mailer
calendar) and ``walmart_weekly`` (Walmart store 1, 7 departments, 143 weeks, horizon 13,
holiday flag). The engine runs with its defaults (``holidays="auto"``, which finds no Chinese
festivals in US data and so applies no calendar).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets as D  # noqa: E402

from channelkit.forecast import forecast  # noqa: E402
from channelkit.forecast import models as M  # noqa: E402
from channelkit.forecast.prophet import _fit_one, prophet_forecast  # noqa: E402
from channelkit.metrics.forecast import evaluate  # noqa: E402

IDS = ["sku"]
LEVELS = (80, 95)
SPECS = {
    "cj_daily": dict(load=lambda a: D.complete_journey_daily(a.series), freq="D", horizon=28, season=7, origins=4,
                     regressors=("display", "mailer"), skip=("arima",)),
    "walmart_weekly": dict(load=lambda a: D.walmart_weekly(), freq="W-FRI", horizon=13, season=52, origins=3,
                           regressors=("holiday",)),
}


def engine_options(**extra) -> dict:
    """Options every engine call shares: the engine's defaults (calendar ``holidays="auto"``), quiet, 2 workers."""
    return dict(id_cols=IDS, progress=False, n_jobs=2, **extra)


def origins(panel: pd.DataFrame, horizon: int, n: int, freq: str) -> list[pd.Timestamp]:
    """``n`` cutoffs one horizon apart, the last one horizon before the end of the data."""
    end = panel["date"].max()
    step = pd.tseries.frequencies.to_offset(freq) * horizon
    return sorted(end - step * k for k in range(1, n + 1))


def prophet_plan(hist: pd.DataFrame, future: pd.DataFrame, regressors, horizon: int) -> pd.DataFrame:
    """``Prophet()`` + the calendar as extra regressors, one fit per series (no holidays)."""
    from joblib import Parallel, delayed

    jobs = [(sku, g[["date", "units", *regressors]].rename(columns={"date": "ds", "units": "y"}),
             future[future["sku"] == sku][["date", *regressors]].rename(columns={"date": "ds"}))
            for sku, g in hist.groupby("sku", sort=True)]
    run = Parallel(n_jobs=2)(delayed(_fit_one)(tr, fu, holidays=None, regressors=list(regressors), levels=LEVELS,
                                               seed=i) for i, (_, tr, fu) in enumerate(jobs))
    out = pd.concat([r.assign(sku=sku) for (sku, *_), r in zip(jobs, run)], ignore_index=True)
    return out.rename(columns={"ds": "date"})


def methods(args, spec: dict) -> dict:
    """Name -> function(history, future_plan) returning a forecast frame (sku, date, forecast, lo/hi)."""
    h, freq = spec["horizon"], spec["freq"]
    out = {name: (lambda hist, fut, n=name: forecast(hist, horizon=h, freq=freq, models=[n], **engine_options()))
           for name in M.MODEL_NAMES if name not in spec.get("skip", ())}
    out["auto"] = lambda hist, fut: forecast(hist, horizon=h, freq=freq, **engine_options())
    # The other selection rules over the same candidates, and the candidates plus the global model.
    for rule in ("best", "shrink"):
        out[f"auto_{rule}"] = lambda hist, fut, r=rule: forecast(hist, horizon=h, freq=freq, **engine_options(selection=r))
    with_lgbm = [*M.resolve_models("auto", freq=freq), "lgbm"]
    out["auto+lgbm"] = lambda hist, fut: forecast(hist, horizon=h, freq=freq, models=with_lgbm, **engine_options())
    if not args.no_prophet:
        out["prophet_default"] = lambda hist, fut: prophet_forecast(
            hist, horizon=h, freq=freq, default=True, id_cols=IDS, n_jobs=2, progress=False)
    if args.plan:
        regs = list(spec["regressors"])
        plan_kw = dict(regressors=regs)
        out["auto+plan"] = lambda hist, fut: forecast(pd.concat([hist, fut]), horizon=h, freq=freq,
                                                      **engine_options(**plan_kw))
        out["lgbm+plan"] = lambda hist, fut: forecast(pd.concat([hist, fut]), horizon=h, freq=freq,
                                                      models=["lgbm"], **engine_options(**plan_kw))
        out["auto+lgbm+plan"] = lambda hist, fut: forecast(pd.concat([hist, fut]), horizon=h, freq=freq,
                                                           models=with_lgbm, **engine_options(**plan_kw))
        if not args.no_prophet:
            out["prophet+plan"] = lambda hist, fut: prophet_plan(hist, fut, regs, h)
    return out


def run(name: str, args) -> pd.DataFrame:
    """Backtest every method on one dataset and return its accuracy table."""
    spec = SPECS[name]
    panel = spec["load"](args)
    h, freq, n_orig = spec["horizon"], spec["freq"], args.origins or spec["origins"]
    print(f"\n== {name}: {D.describe(panel)}; horizon {h}, {n_orig} origins", flush=True)
    fns = methods(args, spec)
    if args.methods:
        fns = {k: v for k, v in fns.items() if k in args.methods}
    rows, secs = [], dict.fromkeys(fns, 0.0)
    for cut in origins(panel, h, n_orig, freq):
        hist = panel[panel["date"] <= cut]
        test = panel[(panel["date"] > cut) & (panel["date"] <= cut + pd.tseries.frequencies.to_offset(freq) * h)]
        fut = test.drop(columns="units")  # the plan: future dates with the calendar, no target
        for m, fn in fns.items():
            t = time.perf_counter()
            fc = fn(hist, fut)
            secs[m] += time.perf_counter() - t
            keep = ["sku", "date", "forecast", *[f"{s}_{lv}" for lv in LEVELS for s in ("lo", "hi")]]
            rows.append(fc[keep].assign(method=m, cutoff=cut))
        print(f"  origin {cut.date()} done", flush=True)
    fc = pd.concat(rows, ignore_index=True)
    fc["sku"] = fc["sku"].astype(str)
    wide = fc.pivot_table(index=["sku", "cutoff", "date"], columns="method",
                          values=[c for c in fc.columns if c not in ("sku", "cutoff", "date", "method")])
    wide.columns = [m if v == "forecast" else f"{m}_{v}" for v, m in wide.columns]
    wide = wide.reset_index().merge(panel[["sku", "date", "units"]].rename(columns={"units": "actual"}),
                                    on=["sku", "date"], how="left")
    # Post-hoc equal-weight pairs of a local and the global forecast (point forecasts only: no intervals).
    for a, b in (("auto", "lgbm"), ("auto+plan", "lgbm+plan")):
        if a in wide and b in wide:
            wide[f"mean({a},{b})"] = (wide[a] + wide[b]) / 2
    names = [c for c in [*fns, "mean(auto,lgbm)", "mean(auto+plan,lgbm+plan)"] if c in wide]
    table = evaluate(wide, names, panel, season_length=spec["season"], levels=LEVELS, interval_models=list(fns),
                     id_cols=IDS, date_col="date", value_col="units")
    table["time_s"] = table["model"].map(secs)
    table.insert(0, "dataset", name)
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="all", choices=[*SPECS, "all"])
    ap.add_argument("--series", type=int, default=150, help="cj_daily: products kept (most selling days)")
    ap.add_argument("--origins", type=int, help="rolling origins (default: 4 daily, 3 weekly)")
    ap.add_argument("--plan", action="store_true", help="also the methods given the promotion calendar")
    ap.add_argument("--no-prophet", action="store_true")
    ap.add_argument("--methods", nargs="+", help="run only these rows (names as printed)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    tables = [run(n, args) for n in (SPECS if args.dataset == "all" else [args.dataset])]
    res = pd.concat(tables, ignore_index=True)
    cols = ["dataset", "model", "mase", "rmsse", "wape", "coverage_80", "coverage_95", "time_s"]
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        for ds, t in res.groupby("dataset", sort=False):
            print(f"\n{ds}")
            print(t[cols[1:]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.out:
        res.to_csv(args.out, index=False)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
