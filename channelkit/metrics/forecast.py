"""Forecast accuracy metrics over tidy backtest frames.

Inputs follow the backtest frame of :func:`channelkit.forecast.engine.run_forecast`: id columns,
``date``, optionally ``cutoff`` (one group per rolling origin), ``actual`` and one column per
model. Per-series functions return one row per series (and cutoff, when present) and one column
per model, like utilsforecast's ``losses`` module, whose definitions they follow:

- ``mae``: mean |y - yhat|.
- ``mase`` (Hyndman & Koehler 2006; utilsforecast ``mase``; M4): MAE divided by the in-sample
  MAE of the seasonal naive forecast, mean |y_t - y_{t-m}| over the history up to the cutoff.
- ``rmsse`` (M5; utilsforecast ``rmsse``): sqrt(mean (y - yhat)^2 / mean (y_t - y_{t-m})^2 over
  the history); M5 uses ``m = 1``, the default here.
- ``wape`` (utilsforecast ``wape``/``nd``): sum |y - yhat| / sum |y|.
- ``bias`` (utilsforecast ``bias``): mean (yhat - y); positive means over-forecasting.
- ``coverage`` (utilsforecast ``coverage``): share of actuals with lo_L <= y <= hi_L.
- ``pinball`` (utilsforecast ``quantile_loss``): mean max(q (y - yq), (q - 1)(y - yq)).

Series whose scale is 0 (a constant history) get NaN MASE/RMSSE; :func:`evaluate` averages over
the series where it is defined.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError


def _keys(df: pd.DataFrame, id_cols: Sequence[str], cutoff_col: str) -> list[str]:
    keys = list(id_cols) + ([cutoff_col] if cutoff_col in df.columns else [])
    missing = [c for c in keys if c not in df.columns]
    if missing:
        raise InputError(f"forecast frame is missing id column(s) {missing}; pass `id_cols`")
    return keys


def _check(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"forecast frame is missing column(s) {missing}; it has {list(df.columns)[:12]}")


def _per_series(values: pd.DataFrame, keys: pd.DataFrame, how: str) -> pd.DataFrame:
    out = values.groupby([keys[c] for c in keys.columns], observed=True, sort=True).agg(how)
    return out.reset_index()


def mae(df: pd.DataFrame, models: Sequence[str], *, id_cols: Sequence[str] = ("sku", "channel"),
        actual_col: str = "actual", cutoff_col: str = "cutoff") -> pd.DataFrame:
    """Mean absolute error per series (and cutoff): mean |y - yhat|."""
    _check(df, [actual_col, *models])
    keys = _keys(df, id_cols, cutoff_col)
    err = df[list(models)].sub(df[actual_col], axis=0).abs()
    return _per_series(err, df[keys], "mean")


def wape(df: pd.DataFrame, models: Sequence[str], *, id_cols: Sequence[str] = ("sku", "channel"),
         actual_col: str = "actual", cutoff_col: str = "cutoff") -> pd.DataFrame:
    """Weighted absolute percentage error per series: sum |y - yhat| / sum |y| (NaN if sum |y| = 0)."""
    _check(df, [actual_col, *models])
    keys = _keys(df, id_cols, cutoff_col)
    num = _per_series(df[list(models)].sub(df[actual_col], axis=0).abs(), df[keys], "sum")
    den = _per_series(df[[actual_col]].abs(), df[keys], "sum")[actual_col].replace(0, np.nan)
    num[list(models)] = num[list(models)].div(den.to_numpy(), axis=0)
    return num


def bias(df: pd.DataFrame, models: Sequence[str], *, id_cols: Sequence[str] = ("sku", "channel"),
         actual_col: str = "actual", cutoff_col: str = "cutoff") -> pd.DataFrame:
    """Mean forecast error per series: mean (yhat - y); positive = over-forecast."""
    _check(df, [actual_col, *models])
    keys = _keys(df, id_cols, cutoff_col)
    return _per_series(df[list(models)].sub(df[actual_col], axis=0), df[keys], "mean")


def coverage(df: pd.DataFrame, models: Sequence[str], level: float, *, id_cols: Sequence[str] = ("sku", "channel"),
             actual_col: str = "actual", cutoff_col: str = "cutoff") -> pd.DataFrame:
    """Share of actuals inside ``[<model>_lo_<L>, <model>_hi_<L>]`` (or ``lo_<L>``/``hi_<L>`` for ``forecast``)."""
    keys = _keys(df, id_cols, cutoff_col)
    inside = {}
    for m in models:
        lo, hi = _bounds(m, level)
        _check(df, [actual_col, lo, hi])
        inside[m] = ((df[actual_col] >= df[lo]) & (df[actual_col] <= df[hi])).astype(float)
    return _per_series(pd.DataFrame(inside, index=df.index), df[keys], "mean")


def _bounds(model: str, level: float) -> tuple[str, str]:
    lab = f"{level:g}"
    if model == "forecast":
        return f"lo_{lab}", f"hi_{lab}"
    return f"{model}_lo_{lab}", f"{model}_hi_{lab}"


def pinball(df: pd.DataFrame, models: dict[str, str], q: float, *, id_cols: Sequence[str] = ("sku", "channel"),
            actual_col: str = "actual", cutoff_col: str = "cutoff") -> pd.DataFrame:
    """Pinball (quantile) loss per series: mean max(q (y - yq), (q - 1)(y - yq)).

    ``models`` maps an output name to the column holding that model's ``q`` quantile.
    """
    if not 0 < q < 1:
        raise InputError(f"`q` must satisfy 0 < q < 1, but got {q}")
    _check(df, [actual_col, *models.values()])
    keys = _keys(df, id_cols, cutoff_col)
    losses = {}
    for name, col in models.items():
        d = df[actual_col] - df[col]
        losses[name] = np.maximum(q * d, (q - 1) * d)
    return _per_series(pd.DataFrame(losses, index=df.index), df[keys], "mean")


def _scales(df: pd.DataFrame, history: pd.DataFrame, *, season_length: int, power: int, id_cols: Sequence[str],
            date_col: str, value_col: str, cutoff_col: str) -> pd.DataFrame:
    """Per series (and cutoff): mean |y_t - y_{t-m}|^power over the history up to the cutoff."""
    _check(history, [*id_cols, date_col, value_col])
    hist = history.sort_values([*id_cols, date_col])
    if cutoff_col in df.columns:
        cuts = df[[*id_cols, cutoff_col]].drop_duplicates()
        hist = hist.merge(cuts, on=list(id_cols))
        hist = hist[hist[date_col] <= hist[cutoff_col]]
    keys = _keys(hist, id_cols, cutoff_col)
    diff = hist.groupby(keys, observed=True)[value_col].diff(season_length).abs() ** power
    scale = diff.groupby([hist[k] for k in keys], observed=True).mean().rename("scale").reset_index()
    scale["scale"] = scale["scale"].replace(0, np.nan)
    return scale


def mase(df: pd.DataFrame, models: Sequence[str], history: pd.DataFrame, *, season_length: int,
         id_cols: Sequence[str] = ("sku", "channel"), date_col: str = "date", value_col: str = "units",
         actual_col: str = "actual", cutoff_col: str = "cutoff") -> pd.DataFrame:
    """Mean absolute scaled error per series (and cutoff); scale from ``history`` (see module doc)."""
    err = mae(df, models, id_cols=id_cols, actual_col=actual_col, cutoff_col=cutoff_col)
    sc = _scales(df, history, season_length=season_length, power=1, id_cols=id_cols, date_col=date_col,
                 value_col=value_col, cutoff_col=cutoff_col)
    out = err.merge(sc, on=_keys(err, id_cols, cutoff_col), how="left")
    out[list(models)] = out[list(models)].div(out.pop("scale"), axis=0)
    return out


def rmsse(df: pd.DataFrame, models: Sequence[str], history: pd.DataFrame, *, season_length: int = 1,
          id_cols: Sequence[str] = ("sku", "channel"), date_col: str = "date", value_col: str = "units",
          actual_col: str = "actual", cutoff_col: str = "cutoff") -> pd.DataFrame:
    """Root mean squared scaled error per series (and cutoff), M5's definition with ``season_length=1``."""
    _check(df, [actual_col, *models])
    keys = _keys(df, id_cols, cutoff_col)
    mse = _per_series(df[list(models)].sub(df[actual_col], axis=0) ** 2, df[keys], "mean")
    sc = _scales(df, history, season_length=season_length, power=2, id_cols=id_cols, date_col=date_col,
                 value_col=value_col, cutoff_col=cutoff_col)
    out = mse.merge(sc, on=keys, how="left")
    out[list(models)] = np.sqrt(out[list(models)].div(out.pop("scale"), axis=0))
    return out


def evaluate(df: pd.DataFrame, models: Sequence[str], history: pd.DataFrame, *, season_length: int,
             levels: Sequence[float] = (), interval_models: Sequence[str] = (),
             id_cols: Sequence[str] = ("sku", "channel"), date_col: str = "date", value_col: str = "units",
             actual_col: str = "actual", cutoff_col: str = "cutoff") -> pd.DataFrame:
    """One accuracy table: rows ``model``, columns ``mase``, ``rmsse``, ``wape``, ``bias``, ``coverage_<L>``.

    MASE and RMSSE are the means of the per-series-and-cutoff values (M4/M5 style, unweighted);
    WAPE and bias are pooled over every row (sum |e| / sum |y|, mean (yhat - y)); coverage is
    pooled over every row, for ``interval_models`` only.
    """
    kw = dict(id_cols=id_cols, actual_col=actual_col, cutoff_col=cutoff_col)
    hk = dict(date_col=date_col, value_col=value_col, **kw)
    table = pd.DataFrame(index=pd.Index(list(models), name="model"))
    table["mase"] = mase(df, models, history, season_length=season_length, **hk)[list(models)].mean()
    table["rmsse"] = rmsse(df, models, history, season_length=1, **hk)[list(models)].mean()
    err = df[list(models)].sub(df[actual_col], axis=0)
    table["wape"] = err.abs().sum() / df[actual_col].abs().sum()
    table["bias"] = err.mean()
    for lv in levels:
        cov = {}
        for m in interval_models:
            lo, hi = _bounds(m, lv)
            cov[m] = float(((df[actual_col] >= df[lo]) & (df[actual_col] <= df[hi])).mean())
        table[f"coverage_{lv:g}"] = pd.Series(cov)
    return table.reset_index()
