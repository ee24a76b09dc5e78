"""The forecasting engine: validate, backtest, choose per series, forecast, add intervals.

``forecast(panel, horizon=28)`` is all most analysts need; ``run_forecast`` returns the same
forecast plus the backtest and the per-series model choice, for accuracy tables and charts.

Each series goes one of three ways (column ``model`` of the result says which):

- **all-zero history** -> forecast 0 with zero-width intervals (``model="all_zero"``);
- **short history** (fewer than ``h + step*(n_windows-1)`` periods plus a minimum training span
  of two weeks (daily) / half a year (weekly)): too short to backtest, so the forecast is the
  mean of the last ``window`` periods (28 days / 13 weeks / 2 seasons) and the intervals are the
  wider of the empirical quantiles of those periods and Poisson quantiles around the mean
  (``model="short_history"``);
- **regular**: every candidate is backtested (rolling origin), the best per series is kept
  (see :mod:`channelkit.forecast.backtest`) and refitted on all history; intervals are split
  conformal from its backtest errors, by default pooled and locally scaled across the series of a
  demand class (:mod:`channelkit.forecast.intervals`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.errors import InputError
from channelkit.forecast import backtest as B
from channelkit.forecast import festivals as F
from channelkit.forecast import intervals as I
from channelkit.forecast import models as M
from channelkit.forecast.frames import DS, UID, Y, PreparedPanel, ReturnsRule, prepare_panel

FORECAST = "forecast"


@dataclass
class ForecastRun:
    """Everything one engine run produced, as tidy frames in the caller's columns.

    - ``forecast``: id columns, date, ``forecast``, ``lo_<L>``/``hi_<L>`` per level, ``model``.
    - ``backtest``: id columns, ``cutoff``, date, ``actual``, one column per candidate,
      ``forecast`` (the chosen candidate) and ``model``; only regular series.
    - ``selection``: id columns, ``model``, ``mae`` (backtest MAE of the choice), ``history``.
    - ``history``: the cleaned, zero-completed history (id columns, date, value column).
    - ``options``: the modelling options of the run (horizon, freq, levels, models, n_windows, step,
      returns, festival_adjust, festival_pool, input_size, intervals), so a derived run (e.g. the aggregate
      levels in :mod:`channelkit.forecast.reconcile`) can repeat them exactly.
    """

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    selection: pd.DataFrame
    history: pd.DataFrame
    prepared: PreparedPanel
    levels: tuple[float, ...]
    options: dict = field(default_factory=dict)


def _check_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"`{name}` must be an integer >= {minimum}, but got {value!r}")
    return int(value)


def _min_train(season_length: int) -> int:
    return 14 if season_length <= 7 else 26 if season_length >= 52 else 2 * season_length


def short_history_window(season_length: int) -> int:
    """Periods the short-history rule averages: 28 days, 13 weeks, otherwise two seasons."""
    return {7: 28, 52: 13}.get(season_length, 2 * season_length)


def _future_dates(prep: PreparedPanel, h: int) -> pd.DatetimeIndex:
    end = prep.data[DS].max()
    return pd.date_range(end, periods=h + 1, freq=prep.freq)[1:]


def _simple_forecasts(data: pd.DataFrame, uids: Sequence[str], prep: PreparedPanel, h: int,
                      levels: Sequence[float], kind: str) -> pd.DataFrame:
    """Forecasts for all-zero and short series (see the module docstring for the rule)."""
    dates = _future_dates(prep, h)
    rows = []
    tail = data[data[UID].isin(uids)].groupby(UID, observed=True)[Y].apply(
        lambda s: s.to_numpy()[-short_history_window(prep.season_length):])
    for uid in uids:
        y = tail[uid]
        mean = float(y.mean()) if kind == "short_history" else 0.0
        row = {UID: uid, FORECAST: mean, "model": kind}
        for lv in levels:
            a = (1 - lv / 100) / 2
            lo = min(np.quantile(y, a), stats.poisson.ppf(a, mean)) if mean > 0 else 0.0
            hi = max(np.quantile(y, 1 - a), stats.poisson.ppf(1 - a, mean)) if mean > 0 else 0.0
            lab = B.level_label(lv)
            row[f"lo_{lab}"], row[f"hi_{lab}"] = max(0.0, min(lo, mean)), max(hi, mean)
        rows.append(row)
    base = pd.DataFrame(rows)
    return base.merge(pd.DataFrame({DS: dates}), how="cross")


def classify(data: pd.DataFrame, *, min_length: int) -> pd.DataFrame:
    """Per series: ``history`` (periods) and ``kind``: ``all_zero``, ``short_history`` or ``regular``."""
    g = data.groupby(UID, observed=True)[Y]
    info = pd.DataFrame({"history": g.size(), "total": g.apply(lambda s: s.abs().sum())})
    info["kind"] = np.where(info["total"] == 0, "all_zero",
                            np.where(info["history"] < min_length, "short_history", "regular"))
    return info.drop(columns="total").reset_index()


def _input_size(value: int | None | str, prep: PreparedPanel, names: Sequence[str]) -> int | None:
    """Resolve ``input_size`` (see :func:`forecast`)."""
    if value == "auto":
        return 364 if prep.freq == "D" and "mstl_yearly" not in names else None
    return None if value is None else _check_int("input_size", value, minimum=2 * prep.season_length)


def _pools(prep: PreparedPanel, pool: str | None) -> pd.Series:
    """Festival pool of each series: its value of ``pool`` (an id column) or one pool for all."""
    if pool is None:
        return pd.Series("all", index=prep.ids[UID].to_numpy())
    if pool not in prep.id_cols:
        raise InputError(f"`festival_pool` must be one of the id columns {list(prep.id_cols)} or None, but got {pool!r}")
    return pd.Series(prep.ids[pool].to_numpy(), index=prep.ids[UID].to_numpy())


def _multipliers(frame: pd.DataFrame, pools: pd.Series | None, table, freq: str) -> np.ndarray:
    """Festival multiplier of each row (1 everywhere when festival adjustment is off)."""
    return np.ones(len(frame)) if pools is None else F.multipliers_for(frame, pools, table, freq=freq)


def _readjust(frame: pd.DataFrame, pools: pd.Series | None, table, columns: Sequence[str], freq: str) -> pd.DataFrame:
    """Multiply ``columns`` back by each row's festival multiplier; keep it as ``scale``."""
    scale = _multipliers(frame, pools, table, freq)
    cols = [c for c in columns if c in frame.columns]
    frame[cols] = frame[cols].mul(scale, axis=0)
    return frame.assign(scale=scale)


def _fit_chunk(reg: pd.DataFrame, *, pools: pd.Series | None, tables: tuple, kw: dict, n_windows: int,
               step: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Backtest, choose and refit the regular series in ``reg``.

    Returns the forecast of the choice, its backtest (with the festival ``scale``, for the
    intervals), the backtest of every candidate and the choice.

    ``tables`` are the festival multipliers estimated up to the first backtest cutoff (for the
    backtest, so it never sees its test periods) and on all history (for the forecast).
    """
    freq, cands = kw["freq"], B.candidate_names(kw["names"])
    cv_in = reg.assign(**{Y: reg[Y] / _multipliers(reg, pools, tables[0], freq)})
    cv = _readjust(B.cross_validate(cv_in, n_windows=n_windows, step=step, **kw), pools, tables[0], [*cands, Y], freq)
    choice = B.select_models(cv, cands)
    cv_pick = B.pick(cv, choice)
    fc_in = reg.assign(**{Y: reg[Y] / _multipliers(reg, pools, tables[1], freq)})
    fc = B.pick(_readjust(B.fit_forecast(fc_in, **kw), pools, tables[1], cands, freq), choice)
    cv_out = cv.drop(columns="scale").merge(cv_pick[[UID, B.CUTOFF, DS, "model", FORECAST]], on=[UID, B.CUTOFF, DS])
    return fc, cv_pick, cv_out.rename(columns={Y: "actual"}), choice


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="forecast", unit="series", disable=not enabled, leave=False)


def run_forecast(
    panel: pd.DataFrame,
    *,
    horizon: int,
    freq: str | None = None,
    levels: Sequence[float] = (80, 95),
    models: str | Sequence[str] = "auto",
    date_col: str = "date",
    value_col: str = "units",
    id_cols: Sequence[str] = ("sku", "channel"),
    n_windows: int = 3,
    step: int | None = None,
    returns: ReturnsRule = "clip",
    festival_adjust: bool = True,
    festival_pool: str | None = "channel",
    input_size: int | None | str = "auto",
    intervals: I.IntervalMethod = "conformal_pooled",
    backend: B.Backend = "local",
    n_jobs: int = -1,
    chunk_size: int = 2000,
    progress: bool = True,
) -> ForecastRun:
    """Backtest, choose and forecast every series of ``panel``; see :func:`forecast` for arguments."""
    h = _check_int("horizon", horizon)
    n_windows = _check_int("n_windows", n_windows)
    chunk_size = _check_int("chunk_size", chunk_size)
    step = h if step is None else _check_int("step", step)
    levels = B.check_levels(levels)
    intervals = I.check_interval_method(intervals)
    names = M.resolve_models(models)
    if backend not in ("local", "dask"):
        raise InputError(f"`backend` must be 'local' or 'dask', but got {backend!r}")
    n_jobs = os.cpu_count() or 1 if n_jobs == -1 else _check_int("n_jobs", n_jobs)
    prep = prepare_panel(panel, date_col=date_col, value_col=value_col, id_cols=id_cols, freq=freq, returns=returns)
    if festival_pool is not None and festival_pool not in prep.id_cols:
        festival_pool = None  # e.g. a panel keyed by sku only: pool every series
    data = prep.data
    test_size = h + step * (n_windows - 1)
    info = classify(data, min_length=test_size + _min_train(prep.season_length))
    regular = info.loc[info["kind"] == "regular", UID].tolist()
    bar = _progress(len(info), progress)
    parts, cv_parts, choices, fc_reg, cv_pick = [], [], [], [], []
    for kind in ("all_zero", "short_history"):
        uids = info.loc[info["kind"] == kind, UID].tolist()
        if uids:
            parts.append(_simple_forecasts(data, uids, prep, h, levels, kind))
            bar.update(len(uids))
    if regular:
        reg_all = data[data[UID].isin(regular)]
        pools = _pools(prep, festival_pool) if festival_adjust and F.is_adjustable(prep.freq) else None
        first_cutoff = data[DS].max() - test_size * pd.tseries.frequencies.to_offset(prep.freq)
        tables = (None, None) if pools is None else (
            F.estimate_multipliers(reg_all, pools, freq=prep.freq, until=first_cutoff),
            F.estimate_multipliers(reg_all, pools, freq=prep.freq))
        kw = dict(names=names, h=h, freq=prep.freq, season_length=prep.season_length, n_jobs=n_jobs, backend=backend,
                  input_size=_input_size(input_size, prep, names))
        # Series are fitted in chunks: memory stays bounded on large panels and the bar moves; every
        # step after the festival tables is per series, so chunking does not change any number.
        for start in range(0, len(regular), chunk_size):
            chunk = regular[start:start + chunk_size]
            fc, picked, cv, choice = _fit_chunk(reg_all[reg_all[UID].isin(chunk)], pools=pools, tables=tables,
                                                kw=kw, n_windows=n_windows, step=step)
            fc_reg.append(fc)
            cv_pick.append(picked)
            cv_parts.append(cv)
            choices.append(choice)
            bar.update(len(chunk))
        # Pooled intervals need every series' backtest scores, so they are added after all chunks.
        parts.append(I.add_intervals(pd.concat(fc_reg, ignore_index=True), pd.concat(cv_pick, ignore_index=True),
                                     levels, method=intervals))
    bar.close()
    cv_out = pd.concat(cv_parts, ignore_index=True) if cv_parts else pd.DataFrame()
    choice = pd.concat(choices, ignore_index=True) if choices else pd.DataFrame(columns=[UID, "model", "mae"])
    options = dict(horizon=h, freq=prep.freq, levels=levels, models=names, n_windows=n_windows, step=step,
                   returns=returns, festival_adjust=festival_adjust, festival_pool=festival_pool, input_size=input_size,
                   intervals=intervals)
    return _assemble(prep, parts, cv_out, choice, info, levels, options)


def _assemble(prep: PreparedPanel, parts: list, cv: pd.DataFrame, choice: pd.DataFrame,
              info: pd.DataFrame, levels: tuple[float, ...], options: dict) -> ForecastRun:
    cols = [UID, DS, FORECAST, *[f"{s}_{B.level_label(lv)}" for lv in levels for s in ("lo", "hi")], "model"]
    fc = pd.concat([p[cols] for p in parts], ignore_index=True).sort_values([UID, DS])
    sel = info.merge(choice, on=UID, how="left")
    sel["model"] = sel["model"].fillna(sel["kind"])
    history = prep.data.rename(columns={Y: prep.value_col})
    return ForecastRun(
        forecast=prep.with_ids(fc).reset_index(drop=True),
        backtest=prep.with_ids(cv).reset_index(drop=True) if len(cv) else cv,
        selection=prep.ids.merge(sel, on=UID).drop(columns=UID),
        history=prep.with_ids(history),
        prepared=prep,
        levels=levels,
        options=options,
    )


def forecast(
    panel: pd.DataFrame,
    *,
    horizon: int,
    freq: str | None = None,
    levels: Sequence[float] = (80, 95),
    models: str | Sequence[str] = "auto",
    date_col: str = "date",
    value_col: str = "units",
    id_cols: Sequence[str] = ("sku", "channel"),
    n_windows: int = 3,
    step: int | None = None,
    returns: ReturnsRule = "clip",
    festival_adjust: bool = True,
    festival_pool: str | None = "channel",
    input_size: int | None | str = "auto",
    intervals: I.IntervalMethod = "conformal_pooled",
    backend: B.Backend = "local",
    n_jobs: int = -1,
    chunk_size: int = 2000,
    progress: bool = True,
) -> pd.DataFrame:
    """Forecast every series of a tidy panel ``horizon`` periods past its last date.

    ``panel`` has ``date_col``, ``value_col`` and ``id_cols`` (defaults: the sales panel's
    ``date``, ``units``, ``sku``/``channel``). ``freq`` is inferred when ``None``.
    ``models="auto"`` backtests seasonal naive, ETS, Croston, TSB, ADIDA and their
    ensemble (:mod:`channelkit.forecast.models` lists every name, e.g. ``mstl``, ``mstl_yearly``, ``theta``) with ``n_windows`` rolling origins ``step`` periods apart
    (default: ``step = horizon``) and keeps the best per series. ``levels`` are the central
    prediction-interval levels in percent. Daily and weekly series are festival-adjusted
    (:mod:`channelkit.forecast.festivals`, multipliers pooled by ``festival_pool``; ``None``
    pools all series; ``festival_adjust=False`` turns it off). ``input_size`` limits every fit
    to the last periods of history: ``"auto"`` uses 364 days for daily data (52 full weeks,
    enough for weekly-season models; the festival multipliers still use all history) unless
    ``mstl_yearly`` is requested, and all history otherwise; ``None`` always uses all history.
    ``backend="dask"`` runs the fits on the current Dask
    cluster; ``n_jobs=-1`` uses every core. ``intervals`` chooses how regular series get their
    intervals from the backtest errors of the chosen model: ``"conformal_pooled"`` (default) pools
    errors scaled by each series' backtest MAE across the series of a demand class (smooth /
    intermittent) and takes split-conformal quantiles of the pool; ``"conformal_series"`` takes
    the quantiles of each series' own errors (:mod:`channelkit.forecast.intervals`). Regular
    series are fitted ``chunk_size`` at a time (this bounds memory on large panels and moves the
    progress bar; results do not depend on it).

    Returns one row per series and future date: the id columns, ``date``, ``forecast`` (>= 0),
    ``lo_<L>``/``hi_<L>`` for each level (0 <= lo <= forecast <= hi) and ``model``.
    """
    return run_forecast(
        panel, horizon=horizon, freq=freq, levels=levels, models=models, date_col=date_col,
        value_col=value_col, id_cols=id_cols, n_windows=n_windows, step=step, returns=returns,
        festival_adjust=festival_adjust, festival_pool=festival_pool, input_size=input_size, intervals=intervals,
        backend=backend, n_jobs=n_jobs, chunk_size=chunk_size, progress=progress,
    ).forecast
