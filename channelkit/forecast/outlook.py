"""Festival outlook and accuracy comparison: the two tables a planner asks for next.

- :func:`festival_outlook`: expected units of the next 618 / Double 11 (or any calendar event),
  per channel: the panel is summed to one series per channel, forecast past the event with the
  engine (festival multipliers pooled per channel, one backtest window because the horizon is
  long), and the forecast is summed over each event's window (pre-sale to after-glow) and taken
  on its peak day.
- :func:`compare_accuracy`: the accuracy table of a run's backtest (every candidate, the
  ensemble and the per-series choice) next to default Prophet fitted one series at a time at
  the same cutoffs on a subset of series.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from channelkit.data.calendar import festival_calendar
from channelkit.errors import InputError
from channelkit.forecast.engine import ForecastRun, run_forecast
from channelkit.metrics.forecast import evaluate


def festival_outlook(panel: pd.DataFrame, *, events: Sequence[str] = ("618", "double11"), by: str = "channel",
                     date_col: str = "date", value_col: str = "units", n_jobs: int = 1,
                     progress: bool = False) -> pd.DataFrame:
    """Expected units per ``by`` value in the next occurrence of each event after the panel ends.

    Columns: ``event``, ``by``, ``start``, ``peak``, ``end``, ``window_units`` (sum of the point
    forecasts over the event window) and ``peak_units`` with ``peak_lo_80``/``peak_hi_80``.
    """
    end = pd.Timestamp(panel[date_col].max())
    cal = festival_calendar(end + pd.Timedelta(days=1), end + pd.Timedelta(days=400))
    cal = cal[cal["event"].isin(events)]
    missing = [e for e in events if e not in set(cal["event"])]
    if missing:
        raise InputError(f"`events` must be festivals of channelkit.data.calendar, but got {missing}")
    windows = cal.assign(peak=cal["date"] - pd.to_timedelta(cal["offset"], unit="D"))
    first = windows.groupby("event")["peak"].transform("min")
    windows = windows[windows["peak"] == first]
    horizon = int((windows["date"].max() - end).days)
    series = panel.groupby([by, date_col], as_index=False)[value_col].sum().assign(_all="all")
    run = run_forecast(series, horizon=horizon, id_cols=(by, "_all"), date_col=date_col, value_col=value_col,
                       n_windows=1, festival_pool=by, levels=(80,), n_jobs=n_jobs, progress=progress)
    fc = run.forecast.merge(windows[["date", "event", "peak"]].rename(columns={"date": date_col}), on=date_col)
    total = fc.groupby(["event", by], as_index=False).agg(start=(date_col, "min"), peak=("peak", "first"),
                                                          end=(date_col, "max"), window_units=("forecast", "sum"))
    peak = fc[fc[date_col] == fc["peak"]][["event", by, "forecast", "lo_80", "hi_80"]]
    peak = peak.rename(columns={"forecast": "peak_units", "lo_80": "peak_lo_80", "hi_80": "peak_hi_80"})
    return total.merge(peak, on=["event", by]).sort_values(["peak", "window_units"], ascending=[True, False])


def compare_accuracy(run: ForecastRun, *, prophet_series: int = 0, n_jobs: int = 1) -> pd.DataFrame:
    """Accuracy of every candidate on ``run``'s backtest, plus default Prophet on ``prophet_series`` series.

    All rows are scored on the same series, cutoffs and dates (the Prophet subset when
    ``prophet_series > 0``). ``forecast`` is the per-series choice, made on these same windows,
    so its score is optimistic; the out-of-sample comparison is ``benchmarks/forecast_accuracy.py``.
    """
    from channelkit.forecast.prophet import prophet_forecast

    prep = run.prepared
    ids, date_col = list(prep.id_cols), prep.date_col
    bt = run.backtest
    skip = {*ids, date_col, "cutoff", "actual", "model"}
    models = [c for c in bt.columns if c not in skip]
    if prophet_series > 0:
        keep = bt[ids].drop_duplicates().head(prophet_series)
        bt = bt.merge(keep, on=ids)
        hist = run.history.merge(keep, on=ids)
        parts = [prophet_forecast(hist[hist[date_col] <= cut], horizon=int(bt["date"].nunique() / bt["cutoff"].nunique()),
                                  freq=prep.freq, default=True, levels=(80,), id_cols=ids, date_col=date_col,
                                  value_col=prep.value_col, n_jobs=n_jobs, progress=False).assign(cutoff=cut)
                 for cut in sorted(bt["cutoff"].unique())]
        pr = pd.concat(parts).rename(columns={"forecast": "prophet_default"})[[*ids, "cutoff", date_col, "prophet_default"]]
        bt = bt.merge(pr, on=[*ids, "cutoff", date_col])
        models.append("prophet_default")
    table = evaluate(bt, models, run.history, season_length=prep.season_length, id_cols=ids, date_col=date_col,
                     value_col=prep.value_col)
    return table.sort_values("mase").reset_index(drop=True)
