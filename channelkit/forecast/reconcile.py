"""Forecasts that add up: SKU x channel rolled up to SKU, channel and total.

Bottom-up reconciliation (Hyndman & Athanasopoulos, FPP3 ch. 11; hierarchicalforecast's
``BottomUp``): the forecast of every aggregate is the sum of its bottom series' forecasts, so a
report's totals agree with its rows by construction. Interval bounds do not add (a sum of 90%
quantiles is not the 90% quantile of the sum), so the aggregates' intervals are recalibrated
the same way as the bottom level's: split conformal on the aggregated backtest errors (the
summed chosen forecasts against the summed actuals, per cutoff and date), clipped at 0.

Output: one row per level, key and date: ``level`` (``sku/channel``, ``sku``, ``channel``,
``total``), the two id columns (``"(all)"`` where aggregated), ``date``, ``forecast``,
``lo_<L>``/``hi_<L>``.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from channelkit.errors import InputError
from channelkit.forecast.backtest import CUTOFF, conformal_intervals, level_label
from channelkit.forecast.frames import UID, Y

ALL = "(all)"


def _levels(id_cols: Sequence[str]) -> list[tuple[str, list[str]]]:
    a, b = id_cols
    return [(f"{a}/{b}", [a, b]), (a, [a]), (b, [b]), ("total", [])]


def aggregate(frame: pd.DataFrame, values: Sequence[str], *, id_cols: Sequence[str] = ("sku", "channel"),
              date_col: str = "date", extra_keys: Sequence[str] = ()) -> pd.DataFrame:
    """Sum ``values`` to every level of the two-column hierarchy (see module doc for the output)."""
    if len(id_cols) != 2:
        raise InputError(f"`id_cols` must name two columns (e.g. ('sku', 'channel')) to reconcile, but got {list(id_cols)}")
    parts = []
    for name, keys in _levels(id_cols):
        g = frame.groupby([*keys, *extra_keys, date_col], observed=True, sort=True)[list(values)].sum().reset_index()
        for col in id_cols:
            if col not in keys:
                g[col] = ALL
        parts.append(g.assign(level=name))
    out = pd.concat(parts, ignore_index=True)
    return out[["level", *id_cols, *extra_keys, date_col, *values]]


def reconcile(run, *, method: str = "bottom_up") -> pd.DataFrame:
    """Bottom-up forecasts with recalibrated intervals for every level of a :class:`ForecastRun`."""
    if method != "bottom_up":
        raise InputError(f"`method` must be 'bottom_up', but got {method!r}")
    prep = run.prepared
    id_cols, date_col = list(prep.id_cols), prep.date_col
    fc = aggregate(run.forecast, ["forecast"], id_cols=id_cols, date_col=date_col)
    key = fc["level"] + "|" + fc[id_cols[0]].astype(str) + "|" + fc[id_cols[1]].astype(str)
    fc = fc.assign(**{UID: key})
    if len(run.backtest):
        bt = aggregate(run.backtest.rename(columns={"actual": Y}), [Y, "forecast"], id_cols=id_cols,
                       date_col=date_col, extra_keys=[CUTOFF])
        bt[UID] = bt["level"] + "|" + bt[id_cols[0]].astype(str) + "|" + bt[id_cols[1]].astype(str)
        fc = conformal_intervals(fc, bt, run.levels)
    bottom = run.forecast.set_index([*id_cols, date_col])
    out = []
    for level, g in fc.groupby("level", sort=False):
        if level == f"{id_cols[0]}/{id_cols[1]}":
            # The bottom level keeps the engine's own (per-series) intervals.
            g = g.set_index([*id_cols, date_col])
            for lv in run.levels:
                for side in ("lo", "hi"):
                    g[f"{side}_{level_label(lv)}"] = bottom[f"{side}_{level_label(lv)}"]
            g = g.reset_index()
        out.append(g)
    cols = ["level", *id_cols, date_col, "forecast", *[f"{s}_{level_label(lv)}" for lv in run.levels for s in ("lo", "hi")]]
    return pd.concat(out, ignore_index=True)[cols]
