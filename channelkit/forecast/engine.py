"""The forecasting engine: validate, backtest, choose per series, forecast, add intervals.

``forecast(panel, horizon=28)`` is all most analysts need; ``run_forecast`` returns the same
forecast plus the backtest and the per-series model choice, for accuracy tables and charts.

Each series goes one of three ways (column ``model`` of the result says which):

- **all-zero history** -> forecast 0 with zero-width intervals (``model="all_zero"``);
- **short history** (fewer than ``h + step*(n_windows-1)`` periods plus a minimum training span
  of two weeks (daily) / half a year (weekly)): too short to backtest, so non-seasonal models
  chosen by demand pattern (simple exponential smoothing + Theta, TSB for intermittent demand, the
  mean below 7 periods; :mod:`channelkit.forecast.short`, ``model="short_history:<rule>"``);
  ``run.notes`` counts them and says why;
- **regular**: every candidate is backtested (rolling origin), the ``selection`` rule turns the
  backtest into per-series weights (default: the mean of the 3 best candidates,
  :mod:`channelkit.forecast.selection`), the candidates are refitted on all history and combined
  with those weights; intervals are split conformal from the backtest errors of that
  combination, by default pooled and locally scaled across the series of a demand class
  (:mod:`channelkit.forecast.intervals`).

The festival calendar (``holidays``, :mod:`channelkit.forecast.calendars`) is resolved once per run
from the regular series; ``run.options["holidays"]`` holds the calendar used (``"CN"``, a country
code or ``"none"``), so a derived run repeats it, and ``run.notes["calendar"]`` its description.
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
from channelkit.forecast import calendars as C
from channelkit.forecast import festivals as F
from channelkit.forecast import intervals as I
from channelkit.forecast import models as M
from channelkit.forecast import selection as S
from channelkit.forecast import short as SH
from channelkit.forecast.frames import DS, UID, Y, PreparedPanel, ReturnsRule, check_plan, future_dates, prepare_panel

FORECAST = "forecast"


@dataclass
class ForecastRun:
    """Everything one engine run produced, as tidy frames in the caller's columns.

    - ``forecast``: id columns, date, ``forecast``, ``lo_<L>``/``hi_<L>`` per level, ``model``.
    - ``backtest``: id columns, ``cutoff``, date, ``actual``, one column per candidate,
      ``forecast`` (the chosen candidate) and ``model``; only regular series.
    - ``selection``: id columns, ``history``, ``kind``, ``model`` (a candidate or ``combo``),
      ``members`` (``"ets+mstl_fourier+tsb"``) and ``mae`` (backtest MAE of the selected forecast).
    - ``history``: the cleaned, zero-completed history (id columns, date, value column).
    - ``options``: the modelling options of the run (horizon, freq, levels, models, n_windows, step,
      returns, selection, top_k, holidays (the calendar used: ``"CN"``, a country code or ``"none"``),
      events, festival_adjust, festival_pool, input_size, intervals), so a derived run (e.g. the
      aggregate levels in :mod:`channelkit.forecast.reconcile`) can repeat them exactly.
    - ``notes``: what the run found: ``calendar`` (its description), ``regressors``, ``all_zero``,
      ``short_history`` (counts), ``short_history_models`` and ``short_history_reason``.
    - ``weights``: id columns, ``candidate``, ``weight``: the selection's non-zero weights.
    """

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    selection: pd.DataFrame
    history: pd.DataFrame
    prepared: PreparedPanel
    levels: tuple[float, ...]
    options: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    weights: pd.DataFrame = field(default_factory=pd.DataFrame)


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
    return future_dates(prep, h)


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
    """Resolve ``input_size`` (see :func:`forecast`; the yearly models ignore it)."""
    if value == "auto":
        return 364 if prep.freq == "D" else None
    return None if value is None else _check_int("input_size", value, minimum=2 * prep.season_length)


def _pools(prep: PreparedPanel, pool: str | None) -> pd.Series:
    """Festival pool of each series: its value of ``pool`` (an id column) or one pool for all."""
    if pool is None:
        return pd.Series("all", index=prep.ids[UID].to_numpy())
    if pool not in prep.id_cols:
        raise InputError(f"`festival_pool` must be one of the id columns {list(prep.id_cols)} or None, but got {pool!r}")
    return pd.Series(prep.ids[pool].to_numpy(), index=prep.ids[UID].to_numpy())


def _multipliers(frame: pd.DataFrame, pools: pd.Series | None, table, freq: str,
                 calendar: C.Calendar = C.CN) -> np.ndarray:
    """Festival multiplier of each row (1 everywhere when festival adjustment is off)."""
    return np.ones(len(frame)) if pools is None else F.multipliers_for(frame, pools, table, freq=freq,
                                                                       calendar=calendar)


def _readjust(frame: pd.DataFrame, pools: pd.Series | None, table, columns: Sequence[str], freq: str,
              calendar: C.Calendar = C.CN) -> pd.DataFrame:
    """Multiply ``columns`` back by each row's festival multiplier; keep it as ``scale``."""
    scale = _multipliers(frame, pools, table, freq, calendar)
    cols = [c for c in columns if c in frame.columns]
    frame[cols] = frame[cols].mul(scale, axis=0)
    return frame.assign(scale=scale)


def _chosen(frame: pd.DataFrame, w: pd.DataFrame, desc: pd.DataFrame) -> pd.DataFrame:
    """The selection's forecast of every row (:func:`channelkit.forecast.selection.combine`) and its label."""
    keep = [c for c in (UID, B.CUTOFF, DS, Y, "scale") if c in frame.columns]
    return frame[keep].assign(model=frame[UID].map(desc.set_index(UID)["model"]).to_numpy(),
                              **{FORECAST: S.combine(frame, w)})


def _fit_chunk(reg: pd.DataFrame, *, pools: pd.Series | None, tables: tuple, kw: dict, n_windows: int,
               step: int, rule: dict, calendar: C.Calendar) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Backtest, weight (``rule``: the selection options) and refit the regular series in ``reg``.

    Returns the selected forecast, its backtest (with the festival ``scale``, for the
    intervals), the backtest of every candidate, the choice (``unique_id, model, members, mae``)
    and the weights.

    ``tables`` are the festival multipliers estimated up to the first backtest cutoff (for the
    backtest, so it never sees its test periods) and on all history (for the forecast).
    """
    freq, cands = kw["freq"], B.candidate_names(kw["names"])
    cv_in = reg.assign(**{Y: reg[Y] / _multipliers(reg, pools, tables[0], freq, calendar)})
    cv = _readjust(B.cross_validate(cv_in, n_windows=n_windows, step=step, **kw), pools, tables[0], [*cands, Y], freq,
                   calendar)
    w = S.weights(cv, cands, n_windows=n_windows, **rule)
    desc = S.describe(w)
    cv_pick = _chosen(cv, w, desc)
    choice = desc.assign(mae=(cv_pick[FORECAST] - cv_pick[Y]).abs().groupby(cv_pick[UID], observed=True).mean()
                         .reindex(desc[UID]).to_numpy())
    fc_in = reg.assign(**{Y: reg[Y] / _multipliers(reg, pools, tables[1], freq, calendar)})
    fc = _chosen(_readjust(B.fit_forecast(fc_in, **kw), pools, tables[1], cands, freq, calendar), w, desc)
    cv_out = cv.drop(columns="scale").merge(cv_pick[[UID, B.CUTOFF, DS, "model", FORECAST]], on=[UID, B.CUTOFF, DS])
    return fc, cv_pick, cv_out.rename(columns={Y: "actual"}), choice, S.weights_long(w)


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
    selection: S.Selection = "combo",
    top_k: int = 3,
    regressors: Sequence[str] = (),
    holidays: str = "auto",
    events: pd.DataFrame | None = None,
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
    selection, top_k = S.check_selection(selection, top_k)
    M.resolve_models(models)
    C.check_holidays(holidays)
    if backend not in ("local", "dask"):
        raise InputError(f"`backend` must be 'local' or 'dask', but got {backend!r}")
    n_jobs = os.cpu_count() or 1 if n_jobs == -1 else _check_int("n_jobs", n_jobs)
    prep = prepare_panel(panel, date_col=date_col, value_col=value_col, id_cols=id_cols, freq=freq, returns=returns,
                         regressors=regressors)
    names = M.resolve_models(models, freq=prep.freq)
    if festival_pool is not None and festival_pool not in prep.id_cols:
        festival_pool = None  # e.g. a panel keyed by sku only: pool every series
    data = prep.data
    test_size = h + step * (n_windows - 1)
    min_length = test_size + _min_train(prep.season_length)
    info = classify(data, min_length=min_length)
    regular = info.loc[info["kind"] == "regular", UID].tolist()
    calendar = C.resolve(holidays, events, data[data[UID].isin(regular)], prep.freq) if festival_adjust else C.NONE
    plan = check_plan(prep, regular, h) if prep.regressors and regular else None
    bar = _progress(len(info), progress)
    parts, cv_parts, choices, fc_reg, cv_pick, weights = [], [], [], [], [], []
    zero = info.loc[info["kind"] == "all_zero", UID].tolist()
    short = info.loc[info["kind"] == "short_history", UID].tolist()
    if zero:
        parts.append(_simple_forecasts(data, zero, prep, h, levels, "all_zero"))
    if short:
        parts.append(SH.short_forecasts(data, short, h=h, freq=prep.freq, season_length=prep.season_length,
                                        levels=levels))
    bar.update(len(zero) + len(short))
    if regular:
        reg_all = data[data[UID].isin(regular)]
        adjust = not calendar.empty and F.is_adjustable(prep.freq)
        pools = _pools(prep, festival_pool) if adjust else None
        first_cutoff = data[DS].max() - test_size * pd.tseries.frequencies.to_offset(prep.freq)
        tables = (None, None) if pools is None else (
            F.estimate_multipliers(reg_all, pools, freq=prep.freq, until=first_cutoff, calendar=calendar),
            F.estimate_multipliers(reg_all, pools, freq=prep.freq, calendar=calendar))
        kw = dict(names=names, h=h, freq=prep.freq, season_length=prep.season_length, n_jobs=n_jobs, backend=backend,
                  input_size=_input_size(input_size, prep, names), use_exog=bool(prep.regressors))
        rule = dict(selection=selection, top_k=top_k)
        # Series are fitted in chunks: memory stays bounded on large panels and the bar moves; every
        # step after the festival tables is per series, so chunking does not change any number.
        for start in range(0, len(regular), chunk_size):
            chunk = regular[start:start + chunk_size]
            X_df = None if plan is None else plan[plan[UID].isin(chunk)]
            fc, picked, cv, choice, w = _fit_chunk(reg_all[reg_all[UID].isin(chunk)], pools=pools, tables=tables,
                                                   kw={**kw, "X_df": X_df}, n_windows=n_windows, step=step, rule=rule,
                                                   calendar=calendar)
            fc_reg.append(fc)
            cv_pick.append(picked)
            cv_parts.append(cv)
            choices.append(choice)
            weights.append(w)
            bar.update(len(chunk))
        # Pooled intervals need every series' backtest scores, so they are added after all chunks.
        parts.append(I.add_intervals(pd.concat(fc_reg, ignore_index=True), pd.concat(cv_pick, ignore_index=True),
                                     levels, method=intervals))
    bar.close()
    cv_out = pd.concat(cv_parts, ignore_index=True) if cv_parts else pd.DataFrame()
    choice = pd.concat(choices, ignore_index=True) if choices else pd.DataFrame(columns=[UID, "model", "members", "mae"])
    options = dict(horizon=h, freq=prep.freq, levels=levels, models=names, n_windows=n_windows, step=step,
                   returns=returns, selection=selection, top_k=top_k, holidays=calendar.country, events=calendar.events,
                   festival_adjust=festival_adjust, festival_pool=festival_pool, input_size=input_size,
                   intervals=intervals)
    notes = {"calendar": calendar.name, "regressors": list(prep.regressors),
             **SH.fallback_notes(info, parts, min_length)}
    run = _assemble(prep, parts, cv_out, choice, info, levels, options)
    run.notes = notes
    run.weights = prep.ids.merge(pd.concat(weights, ignore_index=True), on=UID).drop(columns=UID) \
        if weights else pd.DataFrame()
    return run


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
    selection: S.Selection = "combo",
    top_k: int = 3,
    regressors: Sequence[str] = (),
    holidays: str = "auto",
    events: pd.DataFrame | None = None,
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
    ``models="auto"`` backtests seasonal naive, ETS, Croston, TSB, ADIDA, ``mstl_fourier`` (yearly
    season by Fourier terms + weekly MSTL), on weekly data also ``mstl``, and their ``ensemble``
    (:mod:`channelkit.forecast.models` lists every name) with ``n_windows`` rolling origins ``step``
    periods apart (default: ``step = horizon``). ``selection`` turns the backtest into each series'
    forecast (:mod:`channelkit.forecast.selection`): ``"combo"`` (default) the mean of its ``top_k``
    (default 3) best candidates, ``"shrink"`` the best after shrinking toward the pooled best model,
    ``"best"`` the single best. ``levels`` are the central prediction-interval levels in percent.

    ``regressors`` names numeric columns whose future values are known (promotion flags, planned
    prices): history rows carry the target, rows dated after the last observation carry the plan
    with ``value_col`` empty, for every forecast date of every backtested series (else
    :class:`InputError` naming the series and dates). ``ets`` and ``mstl_fourier`` regress on them,
    ``arima`` takes them as exogenous terms (:mod:`channelkit.forecast.regression`).

    Daily and weekly series are festival-adjusted (:mod:`channelkit.forecast.festivals`,
    multipliers pooled by ``festival_pool``; ``None`` pools all series) for the calendar
    ``holidays`` names (:mod:`channelkit.forecast.calendars`): ``"auto"`` (default: the Chinese
    festivals when the history shows their peaks, else none), ``"CN"``, another ISO country code
    (public holidays, offline) or ``"none"``, plus custom ``events`` (``event, start, end``);
    ``festival_adjust=False`` turns it off. Series too short to backtest get non-seasonal models
    (:mod:`channelkit.forecast.short`). ``input_size`` limits every fit
    to the last periods of history: ``"auto"`` uses 364 days for daily data (52 full weeks,
    enough for weekly-season models; the yearly models and the festival multipliers still use all
    history), and all history otherwise; ``None`` always uses all history.
    ``backend="dask"`` runs the fits on the current Dask
    cluster; ``n_jobs=-1`` uses every core. ``intervals`` chooses how regular series get their
    intervals from the backtest errors of their forecast: ``"conformal_pooled"`` (default) pools
    errors scaled by each series' backtest MAE across the series of a demand class (smooth /
    intermittent) and takes split-conformal quantiles of the pool; ``"conformal_series"`` takes
    the quantiles of each series' own errors (:mod:`channelkit.forecast.intervals`). Regular
    series are fitted ``chunk_size`` at a time (this bounds memory on large panels and moves the
    progress bar; results do not depend on it).

    Returns one row per series and future date: the id columns, ``date``, ``forecast`` (>= 0),
    ``lo_<L>``/``hi_<L>`` for each level (0 <= lo <= forecast <= hi) and ``model`` (a candidate,
    ``combo``, ``all_zero`` or ``short_history:<rule>``). :func:`run_forecast` returns the same plus
    the backtest, the selection, the weights and the run's ``options`` and ``notes`` (calendar
    used, series that fell back to the short-history rules and why).
    """
    return run_forecast(
        panel, horizon=horizon, freq=freq, levels=levels, models=models, date_col=date_col,
        value_col=value_col, id_cols=id_cols, n_windows=n_windows, step=step, returns=returns,
        selection=selection, top_k=top_k, regressors=regressors, holidays=holidays, events=events,
        festival_adjust=festival_adjust, festival_pool=festival_pool, input_size=input_size, intervals=intervals,
        backend=backend, n_jobs=n_jobs, chunk_size=chunk_size, progress=progress,
    ).forecast
