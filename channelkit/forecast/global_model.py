"""A global gradient-boosted model: one LightGBM trained across every series (mlforecast).

Global models won the large retail competitions (M5: LightGBM on pooled series); this is the
engine's candidate ``lgbm``. It returns the same frames as the statsforecast candidates of
:mod:`channelkit.forecast.backtest`, so choice, combination and conformal intervals treat it
like any other model:

- :func:`cross_validate`: ``unique_id, cutoff, ds, y, lgbm`` (rolling origin, ``n_windows``
  cutoffs ``step`` periods apart, forecasting ``h`` periods from the history before each);
- :func:`fit_forecast`: ``unique_id, ds, lgbm`` for the ``h`` periods after the last date.

The model (defaults; :func:`features_for` lists them per frequency):

- **target**: each series standardised by the mean and standard deviation of its own training
  history (mlforecast ``LocalStandardScaler``), so one model serves series of any size; the
  forecast is transformed back and clipped at 0;
- **features**: lags of the main season (daily ``1..7, 14, 21, 28``; weekly ``1, 2, 3, 4, 52``;
  otherwise ``1..m``), rolling means of the last week/month (daily) or quarter (weekly), calendar
  (day of week and month daily; week of year and month weekly), and any known future
  ``regressors`` (promotion flags, planned price): their history comes with the data, their
  future values from ``future`` (the plan), never guessed;
- **forecasting**: recursive (mlforecast's default): step ``k`` uses the forecasts of steps
  ``< k`` as lags;
- **LightGBM**: absolute loss (``objective="regression_l1"``: the median, which MASE and WAPE
  reward), ``n_estimators=500``, ``learning_rate=0.03``, ``num_leaves=15``,
  ``min_child_samples=50``, seeded, ``deterministic=True``, ``force_row_wise=True`` and a fixed
  ``num_threads=THREADS`` (1), so a run gives the same numbers on any machine. One thread because
  LightGBM's OpenMP threads busy-wait: on a loaded 2-core machine one fit of the Walmart panel took
  1.0 s with one thread and 23.9 s with two;
- **why these settings** (``benchmarks/real``, outer backtest of the global model alone, mean MASE
  Complete Journey 100 daily products / Walmart 7 weekly departments): squared loss 0.810 / 1.499,
  absolute loss 0.763 / 1.320, absolute loss with the slower, smaller trees above 0.757 / 1.304
  (min-max scaling with squared or Tweedie loss: 0.851 / 1.421 and 0.848 / 1.365). Chosen among
  six variants on the same windows the benchmark reports, so its ``lgbm`` row is slightly
  optimistic;
- **large panels**: above ``MAX_TRAIN_SERIES`` (2,000) series the model trains on 2,000 evenly
  spaced series (by id) and forecasts every series from its own history: training is the cost
  (about 14 s of CPU per 1,000 daily series of 364 days), so 10,000 series cost what 2,000 do;
- **backtest**: trained once at the first cutoff and re-used with the newer history at later
  cutoffs (``refit=False``, as the engine does for ETS/MSTL); the forecast refits on all history.
  Rows whose lags reach before a series' start keep NaN features (LightGBM handles them), so short
  series still train.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError
from channelkit.forecast.frames import DS, UID, Y

NAME = "lgbm"
THREADS = 1
# Series the model trains on at most (evenly spaced sample above it): bounds its cost on large panels.
MAX_TRAIN_SERIES = 2000
CUTOFF = "cutoff"
LGBM_PARAMS = dict(objective="regression_l1", n_estimators=500, learning_rate=0.03, num_leaves=15,
                   min_child_samples=50, subsample=1.0, colsample_bytree=1.0, deterministic=True,
                   force_row_wise=True, verbosity=-1)


def week_of_year(dates: pd.DatetimeIndex) -> np.ndarray:
    """ISO week number (1-53) of each date: the weekly calendar feature."""
    return pd.DatetimeIndex(dates).isocalendar().week.to_numpy().astype(int)


def features_for(freq: str, season_length: int) -> dict:
    """mlforecast feature spec (``lags``, ``lag_transforms``, ``date_features``) for a frequency."""
    from mlforecast.lag_transforms import RollingMean

    base = pd.tseries.frequencies.to_offset(freq).name.split("-")[0]
    if base == "D":
        return dict(lags=[1, 2, 3, 4, 5, 6, 7, 14, 21, 28],
                    lag_transforms={1: [RollingMean(window_size=7), RollingMean(window_size=28)]},
                    date_features=["dayofweek", "month"])
    if base == "W":
        return dict(lags=[1, 2, 3, 4, 52], lag_transforms={1: [RollingMean(window_size=4), RollingMean(window_size=13)]},
                    date_features=[week_of_year, "month"])
    m = max(1, int(season_length))
    return dict(lags=list(range(1, m + 1)), lag_transforms={1: [RollingMean(window_size=m)]},
                date_features=["month"] if base in ("M", "MS", "ME", "Q", "QS", "QE") else [])


def _model(freq: str, season_length: int, *, seed: int, n_jobs: int):
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.target_transforms import LocalStandardScaler

    est = lgb.LGBMRegressor(random_state=seed, num_threads=n_jobs, **LGBM_PARAMS)
    return MLForecast(models={NAME: est}, freq=freq, num_threads=1, target_transforms=[LocalStandardScaler()],
                      **features_for(freq, season_length))


def check_regressors(data: pd.DataFrame, regressors: Sequence[str], *, what: str = "data") -> tuple[str, ...]:
    """Regressor names present and numeric in ``data``, or :class:`InputError` naming the column."""
    regressors = tuple(regressors)
    missing = [r for r in regressors if r not in data.columns]
    if missing:
        raise InputError(f"`{what}` has no regressor column(s) {missing}; it has {list(data.columns)[:12]}")
    for r in regressors:
        if not pd.api.types.is_numeric_dtype(data[r]) and not pd.api.types.is_bool_dtype(data[r]):
            raise InputError(f"regressor `{r}` must be numeric (0/1 flags, prices), but got dtype {data[r].dtype}")
        if data[r].isna().any():
            ex = data.loc[data[r].isna(), [UID, DS]].head(2).astype(str).to_dict("records")
            raise InputError(f"regressor `{r}` has {int(data[r].isna().sum())} missing value(s) in `{what}`, "
                             f"such as {ex}; give every period a value")
    return regressors


def _frame(data: pd.DataFrame, regressors: Sequence[str]) -> pd.DataFrame:
    out = data[[UID, DS, Y, *regressors]].copy()
    out[list(regressors)] = out[list(regressors)].astype(float)
    return out


def training_ids(uids: Sequence[str], max_series: int | None) -> np.ndarray | None:
    """The series the model trains on: all (``None``) up to ``max_series``, else ``max_series`` evenly spaced ones."""
    uids = np.sort(np.asarray(pd.unique(pd.Series(uids))))
    if max_series is None or len(uids) <= max_series:
        return None
    return uids[np.unique(np.linspace(0, len(uids) - 1, max_series).round().astype(int))]


def _tail(frame: pd.DataFrame, input_size: int | None) -> pd.DataFrame:
    return frame if input_size is None else frame.groupby(UID, observed=True, group_keys=False).tail(input_size)


def _cross_validate_sampled(frame: pd.DataFrame, train: np.ndarray, *, h: int, n_windows: int, step: int, freq: str,
                            regressors: Sequence[str], input_size: int | None, mlf) -> pd.DataFrame:
    """The backtest when the model trains on a sample of series: fit once at the first cutoff on the
    sample, then forecast every series from each cutoff (as ``refit=False`` does on all series)."""
    off = pd.tseries.frequencies.to_offset(freq)
    end = frame[DS].max()
    cutoffs = [end - off * (h + step * (n_windows - 1 - k)) for k in range(n_windows)]
    first = frame[(frame[DS] <= cutoffs[0]) & frame[UID].isin(train)]
    mlf.fit(_tail(first, input_size), static_features=[], dropna=False)
    out = []
    for cut in cutoffs:
        test = frame[(frame[DS] > cut) & (frame[DS] <= cut + off * h)]
        x_df = test[[UID, DS, *regressors]] if regressors else None
        fc = mlf.predict(h, new_df=_tail(frame[frame[DS] <= cut], input_size), X_df=x_df)
        out.append(fc.merge(test[[UID, DS, Y]], on=[UID, DS]).assign(**{CUTOFF: cut}))
    return pd.concat(out, ignore_index=True)


def cross_validate(data: pd.DataFrame, *, h: int, n_windows: int, step: int, freq: str, season_length: int,
                   regressors: Sequence[str] = (), seed: int = 0, n_jobs: int = THREADS,
                   input_size: int | None = None, max_train_series: int | None = MAX_TRAIN_SERIES) -> pd.DataFrame:
    """Rolling-origin backtest of the global model on ``unique_id, ds, y[, regressors]`` (module doc).

    Regressor values of the test periods are taken from ``data`` (they are the plan that was known
    at each cutoff). ``input_size`` keeps only the last ``input_size`` periods before each cutoff
    for training (``None``: all). Above ``max_train_series`` series the model trains on that many
    evenly spaced series (:func:`training_ids`) and forecasts all of them.
    """
    regressors = check_regressors(data, regressors)
    mlf = _model(freq, season_length, seed=seed, n_jobs=n_jobs)
    frame = _frame(data, regressors)
    train = training_ids(frame[UID], max_train_series)
    if train is not None:
        cv = _cross_validate_sampled(frame, train, h=h, n_windows=n_windows, step=step, freq=freq,
                                     regressors=regressors, input_size=input_size, mlf=mlf)
    else:
        cv = mlf.cross_validation(frame, n_windows=n_windows, h=h, step_size=step,
                                  static_features=[], dropna=False, refit=False, input_size=input_size)
    cv[NAME] = cv[NAME].clip(lower=0)
    return cv[[UID, CUTOFF, DS, Y, NAME]].sort_values([UID, CUTOFF, DS]).reset_index(drop=True)


def fit_forecast(data: pd.DataFrame, *, h: int, freq: str, season_length: int, regressors: Sequence[str] = (),
                 future: pd.DataFrame | None = None, seed: int = 0, n_jobs: int = THREADS,
                 input_size: int | None = None, max_train_series: int | None = MAX_TRAIN_SERIES) -> pd.DataFrame:
    """Train on all of ``data`` (its last ``input_size`` periods per series) and forecast ``h`` periods.

    With ``regressors``, ``future`` must hold ``unique_id, ds`` and every regressor for each series
    and each of the ``h`` future periods; a missing one is an :class:`InputError` naming the series
    and dates. Above ``max_train_series`` series it trains on a sample, as :func:`cross_validate`.
    """
    regressors = check_regressors(data, regressors)
    frame = _frame(_tail(data, input_size), regressors)
    mlf = _model(freq, season_length, seed=seed, n_jobs=n_jobs)
    train = training_ids(frame[UID], max_train_series)
    mlf.fit(frame if train is None else frame[frame[UID].isin(train)], static_features=[], dropna=False)
    x_df = None
    if regressors:
        x_df = future_regressors(data, future, regressors, h=h, freq=freq)
    fc = mlf.predict(h, X_df=x_df) if train is None else mlf.predict(h, new_df=frame, X_df=x_df)
    fc[NAME] = fc[NAME].clip(lower=0)
    return fc[[UID, DS, NAME]].sort_values([UID, DS]).reset_index(drop=True)


def future_regressors(data: pd.DataFrame, future: pd.DataFrame | None, regressors: Sequence[str], *, h: int,
                      freq: str) -> pd.DataFrame:
    """The plan for every series and each of the ``h`` periods after its last date, or a clear error."""
    last = data.groupby(UID, observed=True)[DS].max()
    offset = pd.tseries.frequencies.to_offset(freq)
    grid = pd.DataFrame({UID: np.repeat(last.index.to_numpy(), h),
                         DS: [d + offset * k for d in last for k in range(1, h + 1)]})
    if future is None:
        raise InputError(f"regressors {list(regressors)} need their planned values for the {h} forecast periods "
                         f"(from {grid[DS].min().date()}): pass `future` with unique_id, ds and the regressors")
    missing = [c for c in (UID, DS, *regressors) if c not in future.columns]
    if missing:
        raise InputError(f"`future` is missing column(s) {missing}")
    full = grid.merge(future[[UID, DS, *regressors]], on=[UID, DS], how="left")
    gap = full[full[list(regressors)].isna().any(axis=1)]
    if len(gap):
        by = gap.groupby(UID, observed=True)[DS].agg(["min", "max", "size"]).head(3)
        ex = [f"{u}: {r['size']} date(s) {r['min'].date()}..{r['max'].date()}" for u, r in by.iterrows()]
        raise InputError(f"the plan has no value of {list(regressors)} for {gap[UID].nunique()} series, e.g. {ex}")
    full[list(regressors)] = full[list(regressors)].astype(float)
    return full
