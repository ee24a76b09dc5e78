"""Counterfactuals per event: difference-in-differences for channel promotions, the forecasting
engine trained on the pre-period for events that hit every channel at once.

Why two designs
- A promotion on one channel leaves the same SKUs on the other channels unpromoted: they share the
  day's demand shocks (season, festivals, weather, marketing pushes), so they are the control
  group. :func:`promotion_effect` fits a Poisson two-way fixed-effects model on the channel x day
  panel from the ``pre_days``-th clean day before the start to ``post_days`` after the end: a
  fixed effect per day, per control
  channel its own weekly shape and linear trend, and saturated indicators for the promoted channel's
  event and post-event days. Its counterfactual is multiplicative parallel trends: without the
  promotion the promoted channel would have moved like the controls, relative to its own pre-period
  level, weekly shape and trend.
- A festival (or an all-channel promotion) hits every channel at once: no channel is a clean
  control. :func:`festival_effects` asks the forecasting engine (:func:`channelkit.forecast.
  run_forecast`, trained per channel on the days before the event, other events' days imputed,
  festival adjustment off) for the event and post days; intervals come from the engine's backtest
  errors of the same window sums (:mod:`channelkit.promotions.baseline`). This assumes the
  pre-event dynamics would have continued, which is weaker than a control group, and the
  intervals are correspondingly wider.
In both, days of *other* events (their event days and ``post_days`` after them) are left out of the
comparison, per channel for channel events and for every channel for all-channel events, and the
comparison period reaches back (at most a year) until it holds ``pre_days`` clean days. A channel
promotion on festival days is fitted on its other days and shares the festival days' lift with the
festival by the rule of :mod:`channelkit.promotions.overlap`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.errors import InputError
from channelkit.promotions.baseline import Baseline, EngineOptions, baseline_effect, engine_baselines, training_panel
from channelkit.promotions.model import EffectFit, did_design, fit_effect


def excluded_days(windows: pd.DataFrame, current: int, *, post_days: int, dates: pd.DatetimeIndex,
                  channels: list[str]) -> pd.DataFrame:
    """Boolean frame (date x channel): True where another event (or its post window) makes the day
    unfit for the comparison of window ``current``. All-channel events that overlap the current
    event's own window are kept: every channel shares them, and the day effects absorb them.
    Holidays get no post window."""
    mask = np.zeros((len(dates), len(channels)), dtype=bool)
    col = {ch: i for i, ch in enumerate(channels)}
    tails = np.where(windows["kind"].to_numpy() == "holiday", 0, post_days)
    lo = dates.searchsorted(windows["start"].to_numpy())
    hi = dates.searchsorted((windows["end"] + pd.to_timedelta(tails, unit="D")).to_numpy(), side="right")
    me = windows.index.get_loc(current)
    own = np.zeros(len(dates), dtype=bool)
    own[dates.searchsorted(windows["start"].iloc[me]):
        dates.searchsorted(windows["end"].iloc[me] + pd.Timedelta(days=post_days), side="right")] = True
    for i, channel in enumerate(windows["channel"].to_numpy()):
        if i == me:
            continue
        if channel is None or pd.isna(channel):
            mask[lo[i]:hi[i]] |= ~own[lo[i]:hi[i], None]
        elif channel in col:
            mask[lo[i]:hi[i], col[channel]] = True
    return pd.DataFrame(mask, index=dates, columns=channels)


def _pre_start(clean_days: pd.Series, start: pd.Timestamp, pre_days: int) -> pd.Timestamp:
    """First day of the comparison period: the earliest of the last ``pre_days`` clean days before
    ``start`` (looking back at most a year, so the window reaches past other events' days)."""
    before = clean_days[(clean_days.index < start) & (clean_days.index >= start - pd.Timedelta(days=365))]
    days = before.index[before.to_numpy(dtype=bool)]
    return days[-pre_days:].min() if len(days) else start


def _window_rows(daily: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, *, lo: pd.Timestamp,
                 post_days: int) -> pd.DataFrame:
    hi = end + pd.Timedelta(days=post_days)
    rows = daily[(daily["date"] >= lo) & (daily["date"] <= hi)].copy()
    rows["phase"] = np.select([rows["date"] < start, rows["date"] <= end], ["pre", "event"], "post")
    return rows


def _day_index(rows: pd.DataFrame, treated: np.ndarray, phase: str, start: pd.Timestamp) -> np.ndarray:
    """0-based day number within ``phase`` for treated rows of that phase, else -1."""
    mask = treated & (rows["phase"].to_numpy() == phase)
    days = ((rows["date"] - start).dt.days).to_numpy()
    offset = days[mask].min() if mask.any() else 0
    return np.where(mask, days - offset, -1)


def promotion_effect(daily: pd.DataFrame, window: pd.Series, excluded: pd.DataFrame, *, pre_days: int = 56,
                     post_days: int = 7, min_pre_days: int = 21,
                     drop_dates: pd.DatetimeIndex | None = None) -> tuple[EffectFit, pd.DataFrame, list[str]]:
    """Difference-in-differences fit for a promotion on ``window["channel"]`` (see module docstring).

    Returns the fit, the treated channel's rows of the window (with ``phase`` and ``clean``) and
    the control channels used. ``drop_dates`` (days of an overlapping festival, see
    :mod:`channelkit.promotions.overlap`) are left out of the fit for the treated channel; its
    event-day rows on those dates are still returned (``clean`` False) for the money columns.
    Raises :class:`InputError` when there is no control channel or fewer than ``min_pre_days``
    clean pre-period days.
    """
    treated_ch = window["channel"]
    if treated_ch not in excluded.columns:
        raise InputError(f"promotion {window['event']!r} is on channel {treated_ch!r}, which has no sales in `daily`")
    lo = _pre_start(~excluded[treated_ch], window["start"], pre_days)
    rows = _window_rows(daily, window["start"], window["end"], lo=lo, post_days=post_days)
    clean = ~excluded.stack().reindex(pd.MultiIndex.from_frame(rows[["date", "channel"]])).fillna(False)
    rows["clean"] = clean.to_numpy(dtype=bool)
    # Festival days go for every channel: the controls' own festival multipliers would bend their terms.
    dropped = rows["date"].isin(drop_dates if drop_dates is not None else [])
    held = rows[dropped & rows["clean"] & (rows["phase"] == "event") & (rows["channel"] == treated_ch)]
    held = held.assign(clean=False)
    rows = rows[rows["clean"] & ~dropped]
    controls = sorted(set(rows["channel"]) - {treated_ch})
    treated = (rows["channel"] == treated_ch).to_numpy()
    if not controls:
        raise InputError(f"promotion {window['event']!r} on {treated_ch!r} has no unpromoted channel to compare with")
    _check_pre(rows[treated], window, min_pre_days)
    # Every event and post day needs a control observation, or its day effect is not identified.
    uncovered = set(rows.loc[treated & (rows["phase"] != "pre"), "date"]) - set(rows.loc[~treated, "date"])
    rows = rows[~rows["date"].isin(uncovered)]
    treated = (rows["channel"] == treated_ch).to_numpy()
    base = did_design(rows["date"].to_numpy(), rows["channel"].to_numpy(), reference=controls[0],
                      anchor=np.datetime64(window["start"]))
    fit = fit_effect(rows["units"].to_numpy(dtype=float), base,
                     _day_index(rows, treated, "event", window["start"]),
                     _day_index(rows, treated, "post", window["end"] + pd.Timedelta(days=1)))
    return fit, pd.concat([rows[treated], held]).sort_values("date"), controls


def festival_effects(daily: pd.DataFrame, window: pd.Series, excluded: pd.DataFrame, *, channels: list[str],
                     level: float, engine: EngineOptions | None = None, pre_days: int = 56, post_days: int = 7,
                     min_pre_days: int = 21) -> dict[str, tuple[EffectFit, pd.DataFrame, Baseline] | str]:
    """Forecasting-engine fits for every channel during an all-channel event (see module docstring and
    :mod:`channelkit.promotions.baseline`): ``{channel: (fit, window rows, engine baseline)}``, or the
    reason as a string for a channel that cannot be estimated. The window rows hold the last ``pre_days`` clean
    pre-period days (for prices and margins at normal times), the event and the post days."""
    out: dict[str, tuple[EffectFit, pd.DataFrame, Baseline] | str] = {}
    windows: dict[str, pd.DataFrame] = {}
    for channel in channels:
        lo = _pre_start(~excluded[channel], window["start"], pre_days)
        rows = _window_rows(daily[daily["channel"] == channel], window["start"], window["end"], lo=lo,
                            post_days=post_days)
        keep = ~excluded[channel].reindex(rows["date"]).fillna(False).to_numpy(dtype=bool)
        phase = rows["phase"].to_numpy()
        # A channel promotion in the post window lifts those days: the dip is measured without them
        # (clean False); the promotion's own row counts them.
        rows = rows[keep | (phase != "pre")].assign(clean=(keep | (phase == "event"))[keep | (phase != "pre")])
        try:
            _check_pre(rows, window, min_pre_days)
        except InputError as exc:
            out[channel] = str(exc)
            continue
        windows[channel] = rows
    if not windows:
        return out
    panel, imputed = training_panel(daily, excluded, window["start"], channels=list(windows))
    try:
        bases = engine_baselines(panel, imputed, days=int(window["days"]), post_days=post_days, level=level,
                                 options=engine or EngineOptions())
    except InputError as exc:
        return {**out, **{ch: f"forecasting engine: {exc}" for ch in windows}}
    z = float(stats.norm.ppf(0.5 + level / 200))
    for channel, rows in windows.items():
        out[channel] = (baseline_effect(rows, bases[channel], z=z), rows.assign(model=bases[channel].model),
                        bases[channel])
    return out


def _check_pre(rows: pd.DataFrame, window: pd.Series, min_pre_days: int) -> None:
    n_pre = int((rows["phase"] == "pre").sum())
    if n_pre < min_pre_days:
        raise InputError(f"event {window['event']!r} starting {window['start']:%Y-%m-%d} has {n_pre} clean "
                         f"pre-period days, fewer than min_pre_days={min_pre_days}; make pre_days longer")
