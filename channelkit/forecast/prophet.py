"""Prophet, one series at a time, with Chinese festivals and planned promotions and prices.

- Holidays come from :mod:`channelkit.data.calendar` (the offline ``holidays`` package for
  Spring Festival and the statutory holidays, the platforms' festival windows for 618, Double 11,
  Double 12, 38 and 99): one Prophet holiday per event with ``lower_window``/``upper_window``
  spanning its pre-sale (Spring Festival: the 21-day pre-holiday surge through the pause and the
  week after), so every day of the window gets its own effect.
- ``regressors`` (e.g. ``("price", "promo")``) are extra regressors; their future values must
  come from ``plan`` (id columns, date, the regressors for every forecast date), never guessed.
- Prophet/cmdstanpy logging is silenced while fitting; fits run in parallel with joblib.
- Forecasts and interval bounds are clipped at 0. Interval levels come from Prophet's predictive
  samples (``uncertainty_samples=500``), seeded per series.

``default=True`` gives the analyst's usual choice (``Prophet()`` with no holidays or regressors),
the baseline the accuracy benchmark compares against.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from channelkit.data.calendar import festival_calendar, public_holidays
from channelkit.errors import InputError
from channelkit.forecast.backtest import check_levels, level_label
from channelkit.forecast.frames import DS, UID, Y, check_columns, parse_dates, prepare_panel

_LOGGERS = ("cmdstanpy", "prophet", "prophet.plot")


@contextlib.contextmanager
def quiet_prophet() -> Iterator[None]:
    """Silence Prophet and cmdstanpy logging inside the block, restoring the levels after."""
    from cmdstanpy.utils import get_logger

    get_logger()  # cmdstanpy sets its own level on first use; let it, then override it
    saved = {name: logging.getLogger(name).level for name in _LOGGERS}
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def prophet_holidays(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DataFrame:
    """Prophet ``holidays`` frame: ``holiday, ds, lower_window, upper_window`` (see module doc)."""
    cal = festival_calendar(pd.Timestamp(start), pd.Timestamp(end))
    peaks = cal.assign(ds=cal["date"] - pd.to_timedelta(cal["offset"], unit="D"))
    fest = peaks.groupby(["event", "ds"])["offset"].agg(["min", "max"]).reset_index()
    fest = fest.rename(columns={"event": "holiday", "min": "lower_window", "max": "upper_window"})
    pub = public_holidays(start, end)
    pub = pub[~pub["event"].str.contains("Spring Festival")]  # covered by the festival window
    # Substituted days off carry their date in the name; one shared name lets Prophet learn them.
    names = pub["event"].where(~pub["event"].str.contains("Day off", case=False), "day_off")
    pub = pd.DataFrame({"holiday": "cn_" + names.str.replace(r"\W+", "_", regex=True).str.strip("_").str.lower(),
                        "ds": pub["date"], "lower_window": 0, "upper_window": 0})
    out = pd.concat([fest, pub], ignore_index=True)
    out[["lower_window", "upper_window"]] = out[["lower_window", "upper_window"]].astype(int)
    return out.sort_values(["ds", "holiday"]).reset_index(drop=True)


def _fit_one(train: pd.DataFrame, future: pd.DataFrame, *, holidays: pd.DataFrame | None,
             regressors: Sequence[str], levels: Sequence[float], seed: int) -> pd.DataFrame:
    with quiet_prophet():
        from prophet import Prophet

        model = Prophet(holidays=holidays, uncertainty_samples=500)
        for r in regressors:
            model.add_regressor(r)
        model.fit(train)
        np.random.seed(seed)  # Prophet draws its predictive samples from numpy's global RNG
        point = model.predict(future)["yhat"].to_numpy()
        samples = model.predictive_samples(future)["yhat"]
    out = pd.DataFrame({DS: future[DS].to_numpy(), "forecast": np.clip(point, 0, None)})
    for lv in levels:
        a = (1 - lv / 100) / 2
        lab = level_label(lv)
        out[f"lo_{lab}"] = np.clip(np.quantile(samples, a, axis=1), 0, None)
        out[f"hi_{lab}"] = np.clip(np.quantile(samples, 1 - a, axis=1), 0, None)
    return out


def _future_regressors(plan: pd.DataFrame | None, regressors: Sequence[str], ids: pd.DataFrame,
                       dates: pd.DatetimeIndex, id_cols: Sequence[str], date_col: str) -> pd.DataFrame:
    """The planned regressor values for every series and forecast date, or a clear error."""
    if plan is None:
        raise InputError(f"regressors {list(regressors)} need their future values: pass `plan` with columns "
                         f"{[*id_cols, date_col, *regressors]} for the forecast dates {dates[0].date()}..{dates[-1].date()}")
    check_columns(plan, [*id_cols, date_col, *regressors], what="plan")
    plan = plan.assign(**{date_col: parse_dates(plan[date_col], column=date_col)})
    plan = plan.assign(**{c: plan[c].astype(str) for c in id_cols})
    grid = ids.merge(pd.DataFrame({date_col: dates}), how="cross")
    full = grid.merge(plan[[*id_cols, date_col, *regressors]], on=[*id_cols, date_col], how="left")
    for r in regressors:
        gap = full[full[r].isna()]
        if len(gap):
            ex = gap[[*id_cols, date_col]].head(2).astype(str).to_dict("records")
            raise InputError(f"`plan` has no value of regressor `{r}` for {len(gap)} series-date(s), such as {ex}")
    return full


def prophet_forecast(
    panel: pd.DataFrame,
    *,
    horizon: int,
    freq: str | None = None,
    levels: Sequence[float] = (80, 95),
    default: bool = False,
    regressors: Sequence[str] = (),
    plan: pd.DataFrame | None = None,
    date_col: str = "date",
    value_col: str = "units",
    id_cols: Sequence[str] = ("sku", "channel"),
    n_jobs: int = 1,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Fit one Prophet per series and forecast ``horizon`` periods; output as :func:`~channelkit.forecast.forecast`.

    ``default=False`` adds the Chinese holidays and festivals (daily data only) and
    ``regressors`` (whose history is taken from ``panel`` and future from ``plan``).
    History is cleaned as in :func:`~channelkit.forecast.frames.prepare_panel` (gaps = 0).
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    levels = check_levels(levels)
    regressors = () if default else tuple(regressors)
    check_columns(panel, [*id_cols, date_col, value_col, *regressors])
    prep = prepare_panel(panel, date_col=date_col, value_col=value_col, id_cols=id_cols, freq=freq)
    data = prep.data
    dates = pd.date_range(data[DS].max(), periods=horizon + 1, freq=prep.freq)[1:]
    hol = None if default or prep.freq != "D" else prophet_holidays(data[DS].min(), dates[-1])
    reg_hist = reg_future = None
    if regressors:
        reg_future = _future_regressors(plan, regressors, prep.ids[list(id_cols)], dates, id_cols, date_col)
        reg_future = reg_future.merge(prep.ids, on=list(id_cols)).rename(columns={date_col: DS})
        hist = panel.assign(**{date_col: parse_dates(panel[date_col], column=date_col)},
                            **{c: panel[c].astype(str) for c in id_cols})
        reg_hist = hist.merge(prep.ids, on=list(id_cols)).rename(columns={date_col: DS})[[UID, DS, *regressors]]
    jobs = []
    for i, (uid, g) in enumerate(data.groupby(UID, sort=True)):
        train, future = g[[DS, Y]], pd.DataFrame({DS: dates})
        if regressors:
            train = train.merge(reg_hist[reg_hist[UID] == uid], on=DS, how="left").drop(columns=UID)
            train[list(regressors)] = train[list(regressors)].ffill().bfill().fillna(0)
            future = reg_future[reg_future[UID] == uid][[DS, *regressors]]
        jobs.append((uid, train, future, seed + i))
    run = Parallel(n_jobs=n_jobs)(
        delayed(_fit_one)(tr, fu, holidays=hol, regressors=regressors, levels=levels, seed=s)
        for _, tr, fu, s in tqdm(jobs, desc="prophet", disable=not progress, leave=False))
    out = pd.concat([r.assign(**{UID: uid}) for (uid, *_), r in zip(jobs, run)], ignore_index=True)
    return prep.with_ids(out.assign(model="prophet_default" if default else "prophet"))
