"""Forecasts for series too short to backtest: non-seasonal models instead of a flat mean.

A series shorter than the backtest needs (``h + step*(n_windows-1)`` periods plus the minimum
training span of :func:`channelkit.forecast.engine.classify`) cannot have its model chosen by
backtest, and has too little history for a season. It gets a robust non-seasonal forecast by
its demand pattern (the average demand interval ``ADI = periods / non-zero periods`` over its
history, cut at 1.32 as in :mod:`channelkit.forecast.intervals`):

- fewer than ``MIN_POINTS = 7`` periods: the mean of the history (``short_history:mean``;
  statsforecast's ETS refuses fewer than 7 points for its two parameters);
- intermittent (``ADI >= 1.32``): ``TSB`` with ``alpha_d = alpha_p = 0.1``
  (Teunter-Syntetos-Babai; it lets the demand probability decay, unlike Croston)
  (``short_history:tsb``);
- otherwise: the mean of ``AutoETS(model="ANN")`` (simple exponential smoothing with its
  smoothing weight fitted) and ``AutoTheta`` without a season (the M3 winner), a two-model
  combination because neither can be checked on the series (``short_history:ets+theta``).

Intervals (no backtest errors to calibrate them): per period, the wider of the empirical
quantiles of the last ``window`` periods (28 days / 13 weeks / two seasons) and Poisson
quantiles around the forecast, made to contain the forecast. Forecasts are clipped at 0.
Warnings statsforecast raises for such series go to the ``channelkit.forecast`` logger.
"""
from __future__ import annotations

import contextlib
import logging
import warnings
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.forecast.frames import DS, UID, Y
from channelkit.forecast.intervals import ADI_CUTOFF

LOG = logging.getLogger("channelkit.forecast")
MIN_POINTS = 7
SMOOTH, INTERMITTENT, MEAN = "short_history:ets+theta", "short_history:tsb", "short_history:mean"


@contextlib.contextmanager
def warnings_to_log(logger: logging.Logger = LOG) -> Iterator[None]:
    """Send warnings raised inside the block (e.g. statsforecast's season warnings) to ``logger``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in {(str(w.message), w.category.__name__) for w in caught}:
        logger.info("%s: %s", w[1], w[0])


def window(season_length: int) -> int:
    """Periods the interval rule looks back: 28 days, 13 weeks, otherwise two seasons."""
    return {7: 28, 52: 13}.get(season_length, 2 * season_length)


def route(y: np.ndarray) -> str:
    """Which rule of the module doc a history ``y`` takes."""
    if len(y) < MIN_POINTS:
        return MEAN
    nonzero = int((y > 0).sum())
    return INTERMITTENT if nonzero == 0 or len(y) / nonzero >= ADI_CUTOFF else SMOOTH


def _model_means(data: pd.DataFrame, kind: str, h: int, freq: str) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, AutoETS, AutoTheta, Naive

    models = [TSB(alpha_d=0.1, alpha_p=0.1, alias="m")] if kind == INTERMITTENT else \
        [AutoETS(model="ANN", alias="ets"), AutoTheta(season_length=1, alias="theta")]
    sf = StatsForecast(models=models, freq=freq, n_jobs=1, fallback_model=Naive())
    with warnings_to_log():
        out = sf.forecast(df=data[[UID, DS, Y]], h=h)
    cols = [m.alias for m in models]
    return out[[UID, DS]].assign(forecast=out[cols].mean(axis=1).clip(lower=0).to_numpy())


def _mean_forecast(data: pd.DataFrame, h: int, freq: str) -> pd.DataFrame:
    end = data[DS].max()
    dates = pd.date_range(end, periods=h + 1, freq=freq)[1:]
    mean = data.groupby(UID, observed=True)[Y].mean().clip(lower=0)
    return mean.rename("forecast").reset_index().merge(pd.DataFrame({DS: dates}), how="cross")


def _intervals(fc: pd.DataFrame, tails: pd.Series, levels: Sequence[float]) -> pd.DataFrame:
    from channelkit.forecast.backtest import level_label

    f = fc["forecast"].to_numpy()
    for lv in levels:
        a = (1 - lv / 100) / 2
        q_lo = fc[UID].map(tails.map(lambda y: float(np.quantile(y, a)))).to_numpy()
        q_hi = fc[UID].map(tails.map(lambda y: float(np.quantile(y, 1 - a)))).to_numpy()
        lo = np.where(f > 0, np.minimum(q_lo, stats.poisson.ppf(a, np.maximum(f, 1e-12))), 0.0)
        hi = np.where(f > 0, np.maximum(q_hi, stats.poisson.ppf(1 - a, np.maximum(f, 1e-12))), 0.0)
        lab = level_label(lv)
        fc[f"lo_{lab}"], fc[f"hi_{lab}"] = np.maximum(0.0, np.minimum(lo, f)), np.maximum(hi, f)
    return fc


def short_forecasts(data: pd.DataFrame, uids: Sequence[str], *, h: int, freq: str, season_length: int,
                    levels: Sequence[float]) -> pd.DataFrame:
    """Forecasts with intervals for the short series ``uids`` of ``data`` (module doc).

    Returns ``unique_id, ds, forecast, lo_<L>, hi_<L>, model``.
    """
    sub = data[data[UID].isin(uids)]
    histories = sub.groupby(UID, observed=True)[Y].apply(lambda s: s.to_numpy())
    routes = histories.map(route)
    parts = []
    for kind in (MEAN, INTERMITTENT, SMOOTH):
        ids = routes.index[routes == kind]
        if len(ids):
            part = sub[sub[UID].isin(ids)]
            fc = _mean_forecast(part, h, freq) if kind == MEAN else _model_means(part, kind, h, freq)
            parts.append(fc.assign(model=kind))
    fc = pd.concat(parts, ignore_index=True)
    tails = histories.map(lambda y: y[-window(season_length):])
    return _intervals(fc, tails, levels).sort_values([UID, DS]).reset_index(drop=True)


def fallback_notes(info: pd.DataFrame, parts: list, min_length: int) -> dict:
    """How many series got no backtested model, and why (the run's ``notes``)."""
    models = pd.concat([p[[UID, "model"]] for p in parts], ignore_index=True).drop_duplicates(UID)["model"] \
        if parts else pd.Series(dtype=object)
    routes = models[models.str.startswith("short_history")].value_counts()
    return {"all_zero": int((info["kind"] == "all_zero").sum()),
            "short_history": int((info["kind"] == "short_history").sum()),
            "short_history_models": {k: int(v) for k, v in routes.items()},
            "short_history_reason": f"fewer than {min_length} periods (the backtest windows plus the minimum "
                                    "training span)"}
