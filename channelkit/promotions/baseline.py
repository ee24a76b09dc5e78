"""Festival counterfactuals from the forecasting engine, with intervals for window sums.

A festival (or an all-channel promotion) hits every channel at once, so no unpromoted channel can
serve as a control. The counterfactual is then what :func:`channelkit.forecast.run_forecast` would
have predicted for each channel had the event not happened:

1. **History**: each channel's daily units before the event start. Days of *other* events (their
   event days and post windows, public holidays; see :func:`~channelkit.promotions.estimate.
   excluded_days`) would teach the models festival spikes, so they are replaced by
   :func:`impute_days`: the channel's weekday profile times the deseasonalised level interpolated
   linearly in time between the clean days around them.
2. **Forecast**: ``run_forecast(history, horizon=event days + post_days, freq="D",
   id_cols=("channel",), festival_adjust=False)`` (the engine's own festival adjustment would put
   the very effect we measure back into the counterfactual). The engine backtests its candidates
   with rolling origins ``step`` days apart and keeps the best per channel.
3. **Intervals for sums**: summing per-day quantiles would treat the days as perfectly correlated
   (too wide); summing variances as independent (too narrow when errors persist). Instead the
   engine's backtest supplies the error of the *same sums* at each rolling origin: for the event
   span, the post span and both, e_k = sum(actual - forecast) over that span of window k. With
   s^2 = mean(e_k^2) (bias counts as error) over the n usable windows the interval is
   ``estimate +/- t_{n, 1 - alpha/2} s``: under normal errors a new window's error divided by s is
   Student-t with n degrees of freedom, so few windows give honestly wider intervals. Imputed days
   carry no sampling noise, so a window's error is summed over its clean days and scaled up to the
   span (span / clean days); windows less than half clean are dropped. With fewer than three
   usable windows (e.g. the engine's short-history rule) the half-width falls back to the sum of
   the per-day half-widths, the conservative bound.

The interval is a prediction interval: it covers the realised incremental units (observed minus
what these days would have sold without the event), sampling noise of the event days included.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.promotions.model import EffectFit, Estimate

MIN_WINDOWS = 3


@dataclass(frozen=True)
class EngineOptions:
    """Options passed to :func:`channelkit.forecast.run_forecast` for festival baselines."""

    models: str | tuple[str, ...] = "auto"
    n_windows: int = 8
    step: int = 7
    n_jobs: int = 1


def weekday_profile(units: pd.Series, clean: pd.Series) -> np.ndarray:
    """Monday..Sunday multipliers (mean 1) from the clean days of ``units`` (date index): mean units
    per weekday over the overall mean; 1 for a weekday without clean days or a series without sales."""
    y = units[clean.to_numpy(dtype=bool)]
    by_dow = y.groupby(y.index.dayofweek).mean().reindex(range(7))
    if not (y.mean() > 0):
        return np.ones(7)
    return (by_dow / y.mean()).fillna(1.0).clip(lower=1e-3).to_numpy()


def impute_days(units: pd.Series, clean: pd.Series) -> pd.Series:
    """``units`` (daily, date index) with the days where ``clean`` is False replaced by the weekday
    profile times the deseasonalised level, interpolated linearly in time between clean days
    (held flat beyond the first/last clean day)."""
    weekly = weekday_profile(units, clean)
    factor = weekly[units.index.dayofweek]
    level = (units / factor).where(clean.to_numpy(dtype=bool))
    if level.notna().sum() == 0:
        return units.where(clean.to_numpy(dtype=bool), 0.0)
    level = level.interpolate(method="time", limit_direction="both")
    return units.where(clean.to_numpy(dtype=bool), level * factor)


def training_panel(daily: pd.DataFrame, excluded: pd.DataFrame, start: pd.Timestamp,
                   *, channels: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History before ``start`` per channel with excluded days imputed: (panel of ``date, channel,
    units``, boolean frame date x channel of the imputed days)."""
    hist = daily[daily["date"] < start].pivot(index="date", columns="channel", values="units")
    hist = hist.reindex(columns=channels).fillna(0.0)
    imputed = excluded.reindex(index=hist.index, columns=channels).fillna(False).astype(bool)
    filled = pd.DataFrame({ch: impute_days(hist[ch], ~imputed[ch]) for ch in channels}, index=hist.index)
    panel = filled.rename_axis(columns="channel").stack().rename("units").reset_index()
    return panel, imputed


def backtest_matrices(bt: pd.DataFrame, imputed: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One channel's backtest (``cutoff, date, actual, forecast``) as (windows x horizon) arrays:
    the errors ``actual - forecast`` and whether the day was clean (not imputed)."""
    bt = bt.sort_values(["cutoff", "date"])
    n = bt["cutoff"].nunique()
    err = (bt["actual"] - bt["forecast"]).to_numpy(dtype=float).reshape(n, -1)
    clean = ~imputed.reindex(bt["date"]).fillna(False).to_numpy(dtype=bool).reshape(n, -1)
    return err, clean


def _window_errors(err: np.ndarray, clean: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Per backtest window, sum(actual - forecast) over horizons ``lo..hi-1`` on clean days, scaled
    to the full span; windows less than half clean are dropped."""
    total = np.where(clean, err, 0.0)[:, lo:hi].sum(axis=1)
    n_clean = clean[:, lo:hi].sum(axis=1)
    keep = n_clean * 2 >= hi - lo
    return total[keep] * (hi - lo) / n_clean[keep]


def _half_width(errors: np.ndarray, fallback: float, alpha: float) -> tuple[float, int]:
    """Half-width of the interval of a window sum: t_{n, 1-alpha/2} * RMS(errors), or ``fallback``
    with fewer than :data:`MIN_WINDOWS` windows. Returns (half-width, windows used)."""
    if len(errors) < MIN_WINDOWS:
        return fallback, 0
    return float(stats.t.ppf(1 - alpha / 2, len(errors)) * np.sqrt(np.mean(errors ** 2))), len(errors)


def _weighted_errors(err: np.ndarray, clean: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`_window_errors` for any weighted sum over the horizon: per backtest window,
    sum_h w_h (actual - forecast) over clean days, scaled up by sum |w| / sum of clean |w|; windows
    whose clean days carry less than half the weight are dropped. An indicator of ``lo..hi-1``
    gives :func:`_window_errors` exactly."""
    w = np.abs(weights)
    total = (np.where(clean, err, 0.0) * weights).sum(axis=1)
    w_clean = (clean * w).sum(axis=1)
    keep = (w_clean * 2 >= w.sum()) & (w_clean > 0)
    return total[keep] * w.sum() / w_clean[keep]


@dataclass(frozen=True)
class Baseline:
    """One channel's engine counterfactual: the daily forecast (``date, forecast, lo, hi``), the
    chosen model, the half-widths of the event, post and whole-window sums, the backtest windows
    behind them (0: per-day fallback) and the days of history the engine saw; ``errors`` and
    ``clean`` (backtest windows x horizon) and ``alpha`` serve :meth:`half_width` for other sums."""

    daily: pd.DataFrame
    model: str
    half_event: float
    half_post: float
    half_all: float
    windows: int
    history: int
    errors: np.ndarray | None = None
    clean: np.ndarray | None = None
    alpha: float = 0.05

    def half_width(self, weights: np.ndarray) -> float:
        """Interval half-width of sum_h w_h forecast_h over the horizon (``weights`` one per
        forecast day, in date order), by the rule of the module docstring (:func:`_weighted_errors`,
        t-based; with fewer than :data:`MIN_WINDOWS` windows the per-day fallback sum |w_h| x
        half-width_h)."""
        weights = np.asarray(weights, dtype=float)
        per_day = ((self.daily["hi"] - self.daily["lo"]) / 2).to_numpy(dtype=float)
        fallback = float(np.abs(weights) @ per_day)
        if self.errors is None or not len(self.errors):
            return fallback
        return _half_width(_weighted_errors(self.errors, self.clean, weights), fallback, self.alpha)[0]


def engine_baselines(panel: pd.DataFrame, imputed: pd.DataFrame, *, days: int, post_days: int, level: float,
                     options: EngineOptions) -> dict[str, Baseline]:
    """Run the forecasting engine on ``panel`` (``date, channel, units``) for ``days + post_days``
    days and turn its forecasts and backtest into a :class:`Baseline` per channel."""
    from channelkit.forecast import run_forecast

    horizon = days + post_days
    run = run_forecast(panel, horizon=horizon, freq="D", levels=(level,), models=options.models,
                       id_cols=("channel",), n_windows=options.n_windows, step=min(options.step, horizon),
                       festival_adjust=False, n_jobs=options.n_jobs, progress=False)
    lab = run.forecast.columns[run.forecast.columns.str.startswith("lo_")][0][3:]
    alpha = 1 - level / 100
    backtests = dict(tuple(run.backtest.groupby("channel", sort=False))) if len(run.backtest) else {}
    history = panel.groupby("channel").size()
    out = {}
    for channel, fc in run.forecast.groupby("channel", sort=False):
        fc = fc.sort_values("date").reset_index(drop=True)
        fc = fc.rename(columns={f"lo_{lab}": "lo", f"hi_{lab}": "hi"})[["date", "forecast", "lo", "hi", "model"]]
        half = ((fc["hi"] - fc["lo"]) / 2).to_numpy()
        bt = backtests.get(channel)
        mats = backtest_matrices(bt, imputed[channel]) if bt is not None else (np.zeros((0, horizon)),) * 2
        widths = [_half_width(_window_errors(*mats, lo, hi), float(half[lo:hi].sum()), alpha)
                  for lo, hi in ((0, days), (days, horizon), (0, horizon))]
        out[str(channel)] = Baseline(fc.drop(columns="model"), str(fc["model"].iloc[0]), widths[0][0],
                                     widths[1][0], widths[2][0], widths[0][1], int(history[channel]),
                                     errors=mats[0], clean=mats[1], alpha=alpha)
    return out


def baseline_effect(rows: pd.DataFrame, base: Baseline, *, z: float) -> EffectFit:
    """:class:`EffectFit` of one channel from its window ``rows`` (``date, units, phase``) and engine
    baseline. Each ``se`` is the interval half-width divided by ``z``, so ``Estimate.interval(z)``
    returns the t-based interval of the module docstring. Post-window rows with ``clean`` False (a
    channel promotion's days) are left out of the dip, and its interval is that of the kept days."""
    fc = base.daily.set_index("date")["forecast"]
    clean = rows["clean"].to_numpy(dtype=bool) if "clean" in rows else np.ones(len(rows), dtype=bool)
    ev, po = rows[rows["phase"] == "event"], rows[(rows["phase"] == "post").to_numpy() & clean]
    cf, post_cf = float(fc.reindex(ev["date"]).sum()), float(fc.reindex(po["date"]).sum())
    observed, post_observed = float(ev["units"].sum()), float(po["units"].sum())
    inc, lost = observed - cf, post_cf - post_observed
    se_inc, se_post, se_all = base.half_event / z, base.half_post / z, base.half_all / z
    if (rows["phase"] == "post").sum() > len(po):
        post_w, event_w = np.zeros(len(base.daily)), np.zeros(len(base.daily))
        post_w[base.daily["date"].searchsorted(po["date"])] = 1.0
        event_w[base.daily["date"].searchsorted(ev["date"])] = 1.0
        se_post, se_all = base.half_width(post_w) / z, base.half_width(post_w + event_w) / z
    return EffectFit(
        observed=observed, incremental=Estimate(inc, se_inc), counterfactual=Estimate(cf, se_inc),
        lift=Estimate(inc / cf if cf > 0 else np.nan, se_inc / cf if cf > 0 else np.nan),
        post_observed=post_observed, lost=Estimate(lost, se_post),
        post_change=Estimate(-lost / post_cf if post_cf > 0 else np.nan, se_post / post_cf if post_cf > 0 else np.nan),
        net=Estimate(inc - lost, se_all), dispersion=np.nan, n_obs=base.history)
