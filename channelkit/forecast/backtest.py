"""Rolling-origin backtests, per-series model choice and conformal intervals.

- :func:`cross_validate` runs statsforecast's rolling-origin cross-validation: ``n_windows``
  cutoffs, ``step`` periods apart, each forecasting ``h`` periods ahead from the history before
  it. Models that can (ETS, MSTL, seasonal naive) estimate their parameters once, at the first
  cutoff, and re-filter the newer data at later cutoffs (``refit=False``), which halves the cost;
  the final forecast always refits on all history. Result: one row per series, cutoff and date with ``y`` and one column
  per model, forecasts clipped at 0 (quantities).
- :func:`select_models` keeps, per series, the candidate with the lowest backtest mean absolute
  error (equivalently the lowest MASE, since the MASE scale is fixed per series), ties going to
  the earlier candidate. ``ensemble`` (mean of the adaptive models) is one of the candidates.
- :func:`conformal_intervals` turns backtest errors into prediction intervals (split conformal
  prediction, as statsforecast's ``ConformalIntervals`` but pooling every horizon step): with the
  n signed errors ``e = y - yhat`` of a series, the ``L``% interval is
  ``[yhat + q_lo(e), yhat + q_hi(e)]`` with ``q_lo``, ``q_hi`` the ``(1-L/100)/2`` and
  ``(1+L/100)/2`` empirical quantiles, widened by the finite-sample factor ``(n+1)/n``, and
  clipped at 0. This is the engine's ``intervals="conformal_series"``; its default, pooled and
  locally scaled intervals are in :mod:`channelkit.forecast.intervals` (with n = 24 errors the
  95% interval here is ``[min, max]``, which covers a new exchangeable error only
  ``(n-1)/(n+1) = 92%`` of the time).
"""
from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError
from channelkit.forecast import models as M
from channelkit.forecast.frames import DS, UID, Y

Backend = Literal["local", "dask"]
CUTOFF = "cutoff"


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """Validate interval levels: each must satisfy 0 < level < 100."""
    levels = tuple(levels or ())
    bad = [lv for lv in levels if not (isinstance(lv, (int, float)) and 0 < lv < 100)]
    if bad:
        raise InputError(f"`levels` must satisfy 0 < level < 100, but got {bad}")
    return tuple(sorted(set(levels)))


def level_label(level: float) -> str:
    """``80 -> '80'``, ``97.5 -> '97.5'``: the suffix of ``lo_<L>``/``hi_<L>`` columns."""
    return f"{level:g}"


def _statsforecast(models: list, freq: str, n_jobs: int):
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    # Naive stands in when a model cannot fit a series (e.g. too few points for its season).
    return StatsForecast(models=models, freq=freq, n_jobs=n_jobs, fallback_model=Naive())


def _run(method: str, data: pd.DataFrame, *, models: list, freq: str, n_jobs: int, backend: Backend,
         **kwargs) -> pd.DataFrame:
    """Call statsforecast ``method`` locally or on the current Dask cluster (via fugue)."""
    from channelkit.forecast.short import warnings_to_log

    sf = _statsforecast(models, freq, n_jobs if backend == "local" else 1)
    # statsforecast warns per series (e.g. "Historical data (36) is shorter than season_length (52)");
    # they go to the `channelkit.forecast` logger, not the analyst's terminal. Worker processes forked
    # inside the block inherit the recording filter, so theirs are dropped rather than printed.
    with warnings_to_log():
        return _run_sf(sf, method, data, n_jobs=n_jobs, backend=backend, **kwargs)


def _run_sf(sf, method: str, data: pd.DataFrame, *, n_jobs: int, backend: Backend, **kwargs) -> pd.DataFrame:
    if backend == "dask":
        import dask.dataframe as dd

        nparts = max(1, min(data[UID].nunique(), 2 * max(n_jobs, 1)))
        ddf = dd.from_pandas(data.assign(**{UID: data[UID].astype(str)}), npartitions=nparts, sort=False)
        out = getattr(sf, method)(df=ddf, **kwargs).compute()
        out[DS] = pd.to_datetime(out[DS])
        if CUTOFF in out:
            out[CUTOFF] = pd.to_datetime(out[CUTOFF])
        values = [c for c in out.columns if c not in (UID, DS, CUTOFF)]
        out[values] = out[values].astype(float)  # fugue may hand back object columns
    elif backend == "local":
        out = getattr(sf, method)(df=data, **kwargs)
    else:
        raise InputError(f"`backend` must be 'local' or 'dask', but got {backend!r}")
    keys = [UID, CUTOFF, DS] if CUTOFF in out else [UID, DS]
    return out.sort_values(keys).reset_index(drop=True)


def _groups(data: pd.DataFrame, freq: str, season_length: int, skip: int) -> list[tuple[tuple, pd.DataFrame]]:
    """Split series by the MSTL seasons their history supports (``skip`` = periods held out) and by
    whether their whole history covers two years (:func:`channelkit.forecast.models.has_two_years`;
    the same in the backtest and the final fit, so ``mstl_fourier`` is judged as it will forecast)."""
    n = data.groupby(UID, observed=True).size()
    key = n.map(lambda k: (tuple(M.seasons(freq, season_length, int(k) - skip)), M.has_two_years(freq, int(k))))
    return [(k, data[data[UID].isin(key.index[key == k])]) for k in sorted(set(key))]


def add_ensemble(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Add the ``ensemble`` column: the mean of the fitted ensemble members (NaNs ignored)."""
    members = M.ensemble_members(names)
    if members:
        frame[M.ENSEMBLE] = frame[members].mean(axis=1, skipna=True)
    return frame


def candidate_names(names: Sequence[str]) -> list[str]:
    """Columns a fit produces: the models, then ``ensemble`` when it can be formed."""
    return [*names, M.ENSEMBLE] if M.ensemble_members(names) else list(names)


YEARLY_MODELS = ("mstl_yearly", "mstl_fourier")


def _by_input_size(names: Sequence[str], input_size: int | None) -> list[tuple[list[str], int | None]]:
    """Model names grouped by the history they fit on: the yearly models always take all of it."""
    if input_size is None:
        return [(list(names), None)]
    groups = [([n for n in names if n not in YEARLY_MODELS], input_size), ([n for n in names if n in YEARLY_MODELS], None)]
    return [(ns, size) for ns, size in groups if ns]


def _merge(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    out = frames[0]
    for other in frames[1:]:
        out = out.merge(other.drop(columns=[c for c in other.columns if c in out.columns and c not in keys]),
                        on=keys, how="inner")
    return out


def cross_validate(
    data: pd.DataFrame,
    *,
    names: Sequence[str],
    h: int,
    n_windows: int,
    step: int,
    freq: str,
    season_length: int,
    n_jobs: int = 1,
    backend: Backend = "local",
    input_size: int | None = None,
    use_exog: bool = False,
    X_df: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of ``names`` on a ``unique_id, ds, y`` frame (see module doc).

    Every series must have at least ``h + step * (n_windows - 1)`` points plus some training
    history; the engine routes shorter series elsewhere before calling this. ``input_size``
    limits each fit to the last ``input_size`` periods before its cutoff (``None``: all; the
    yearly models ``mstl_yearly`` and ``mstl_fourier`` always use all). Extra columns of ``data``
    are known regressors (``use_exog``: the models that can, use them); ``X_df`` is unused here.
    """
    test_size = h + step * (n_windows - 1)
    parts = []
    for (seasons, yearly), group in _groups(data, freq, season_length, test_size):
        frames = []
        for subset, size in _by_input_size(names, input_size):
            mdl = M.build_models(subset, season_length=season_length, mstl_seasons=seasons, freq=freq, use_exog=use_exog,
                                 yearly=yearly)
            # Models with a `forward` method are fitted once, at the first cutoff, and only re-filtered
            # at later cutoffs (statsforecast's refit=False); the cheap intermittent models are refitted.
            split = {True: [m for m in mdl if hasattr(m, "forward")], False: [m for m in mdl if not hasattr(m, "forward")]}
            frames += [_run("cross_validation", group, models=ms, freq=freq, n_jobs=n_jobs, backend=backend, h=h,
                            n_windows=n_windows, step_size=step, input_size=size, refit=not fwd)
                       for fwd, ms in split.items() if ms]
        parts.append(_merge(frames, [UID, CUTOFF, DS]))
    cv = pd.concat(parts, ignore_index=True)
    cv = cv[[UID, CUTOFF, DS, Y, *names]]
    cv[list(names)] = cv[list(names)].clip(lower=0)
    return add_ensemble(cv, names).sort_values([UID, CUTOFF, DS]).reset_index(drop=True)


def fit_forecast(
    data: pd.DataFrame,
    *,
    names: Sequence[str],
    h: int,
    freq: str,
    season_length: int,
    n_jobs: int = 1,
    backend: Backend = "local",
    input_size: int | None = None,
    use_exog: bool = False,
    X_df: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Fit ``names`` on the last ``input_size`` periods (``None``: all; the yearly models: all) and
    forecast ``h`` periods; ``X_df`` holds the regressors' future values (``unique_id, ds, <cols>``).

    Point forecasts are clipped at 0.
    """
    frames = []
    for subset, size in _by_input_size(names, input_size):
        hist = data if size is None else data.groupby(UID, observed=True, group_keys=False).tail(size)
        for (seasons, yearly), group in _groups(hist, freq, season_length, 0):
            mdl = M.build_models(subset, season_length=season_length, mstl_seasons=seasons, freq=freq, use_exog=use_exog,
                                 yearly=yearly)
            extra = {} if X_df is None else {"X_df": X_df[X_df[UID].isin(group[UID].unique())]}
            frames.append(_run("forecast", group, models=mdl, freq=freq, n_jobs=n_jobs, backend=backend, h=h, **extra))
    by_subset = {}
    for f in frames:
        by_subset.setdefault(tuple(c for c in f.columns if c not in (UID, DS)), []).append(f)
    fc = _merge([pd.concat(fs, ignore_index=True) for fs in by_subset.values()], [UID, DS])
    fc = fc[[UID, DS, *names]]
    fc[list(names)] = fc[list(names)].clip(lower=0)
    return add_ensemble(fc, names).sort_values([UID, DS]).reset_index(drop=True)


def select_models(cv: pd.DataFrame, candidates: Sequence[str]) -> pd.DataFrame:
    """Per series, the candidate with the lowest backtest MAE: columns ``unique_id, model, mae``."""
    cand = [c for c in candidates if c in cv.columns]
    err = cv[cand].sub(cv[Y], axis=0).abs().groupby(cv[UID], observed=True).mean()
    # NaN (a model that never produced a forecast) must never win.
    best = err.fillna(np.inf).to_numpy().argmin(axis=1)
    out = pd.DataFrame({UID: err.index, "model": np.asarray(cand)[best],
                        "mae": err.to_numpy()[np.arange(len(err)), best]})
    return out.reset_index(drop=True)


def pick(frame: pd.DataFrame, choice: pd.DataFrame, *, out_col: str = "forecast") -> pd.DataFrame:
    """Take, row by row, the column named in ``choice.model`` for the row's series."""
    model = frame[UID].map(choice.set_index(UID)["model"])
    values = np.full(len(frame), np.nan)
    for name in model.dropna().unique():
        rows = (model == name).to_numpy()
        values[rows] = frame.loc[rows, name].to_numpy()
    keep = [c for c in (UID, CUTOFF, DS, Y, "scale") if c in frame.columns]
    return frame[keep].assign(model=model.to_numpy(), **{out_col: values})


def conformal_quantiles(errors: pd.DataFrame, levels: Sequence[float]) -> pd.DataFrame:
    """Per series, the lower/upper error quantiles for each level (see module doc).

    ``errors`` has ``unique_id`` and ``error = y - yhat``. Returns ``unique_id`` and columns
    ``qlo_<L>``, ``qhi_<L>``.
    """
    out = {}
    grouped = errors.groupby(UID, observed=True)["error"]
    n = grouped.size()
    for lv in levels:
        a = (1 - lv / 100) / 2
        # Finite-sample split-conformal correction: quantile ceil((n+1)(1-a))/n, capped at 1.
        hi_q = np.minimum(1.0, np.ceil((n + 1) * (1 - a)) / n)
        lo_q = np.maximum(0.0, 1 - hi_q)
        qs = {}
        for uid, e in grouped:
            arr = e.to_numpy()
            qs[uid] = (np.quantile(arr, lo_q[uid]), np.quantile(arr, hi_q[uid]))
        lab = level_label(lv)
        out[f"qlo_{lab}"] = pd.Series({k: v[0] for k, v in qs.items()})
        out[f"qhi_{lab}"] = pd.Series({k: v[1] for k, v in qs.items()})
    frame = pd.DataFrame(out)
    frame.index.name = UID
    return frame.reset_index()


def conformal_intervals(fc: pd.DataFrame, cv_pick: pd.DataFrame, levels: Sequence[float],
                        *, col: str = "forecast", scale: str = "scale") -> pd.DataFrame:
    """Add ``lo_<L>``/``hi_<L>`` to ``fc`` from the backtest errors of the chosen forecasts.

    When both frames carry a ``scale`` column (the festival multiplier of the day), errors are
    measured in scaled units ``(y - yhat) / scale`` and the interval half-widths multiplied by
    the future day's scale, so festival days get proportionally wider intervals.
    """
    cv_scale = cv_pick[scale] if scale in cv_pick else 1.0
    errors = cv_pick.assign(error=(cv_pick[Y] - cv_pick[col]) / cv_scale)[[UID, "error"]].dropna()
    q = conformal_quantiles(errors, levels)
    out = fc.merge(q, on=UID, how="left")
    fc_scale = out[scale] if scale in out else 1.0
    for lv in levels:
        lab = level_label(lv)
        out[f"lo_{lab}"] = (out[col] + fc_scale * out.pop(f"qlo_{lab}")).clip(lower=0)
        out[f"hi_{lab}"] = (out[col] + fc_scale * out.pop(f"qhi_{lab}")).clip(lower=0)
        out[f"lo_{lab}"] = np.minimum(out[f"lo_{lab}"], out[col])
        out[f"hi_{lab}"] = np.maximum(out[f"hi_{lab}"], out[col])
    return out
