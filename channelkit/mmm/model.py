"""``fit_mmm``: the marketing mix model from a wide daily or weekly panel, with honest intervals.

Steps: validate and aggregate the panel (:mod:`~channelkit.mmm.design`), build the candidate grid,
fit once without priors to estimate the residual variance ``sigma2 = SSE / (n - p - 3C)``, fit
again with the saturation prior and the lift tests weighted by ``sigma2`` (the point fit), then
refit everything on ``n_boot`` moving-block resamples (:mod:`~channelkit.mmm.bootstrap`).
Results are read from the returned :class:`MMMResult` (:mod:`~channelkit.mmm.outputs`).

Lift tests: a frame with ``channel, start, end, lift, se``: the incremental sales the channel's
spend made over the test's periods (periods whose first day lies in ``[start, end]``), measured by
an experiment, with its standard error, in the target's units.
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError
from channelkit.mmm.bootstrap import bootstrap_fits
from channelkit.mmm.design import ModelData, model_data, prepare_panel
from channelkit.mmm.fit import Fit, Grid, LiftTests, build_grid, fit_once, unique_variation

LIFT_COLUMNS = ("channel", "start", "end", "lift", "se")
MIN_UNIQUE = 0.05  # share of a channel's feature variance left after baseline and other channels
MIN_SPEND_CV = 0.05  # coefficient of variation of spend over periods


@dataclass
class MMMResult:
    """A fitted model: data, point fit, bootstrap fits and the options used."""

    data: ModelData
    grid: Grid
    point: Fit
    draws: list[Fit]
    level: float
    sigma2: float
    lift: LiftTests | None
    unique: np.ndarray
    status: list[str]
    options: dict = field(default_factory=dict)


def _validate(level: float, n_boot: int, n_starts: int, n_jobs: int) -> None:
    if not 0 < level < 100:
        raise InputError(f"`level` must satisfy 0 < level < 100 (percent), but got {level}")
    if n_boot < 0 or n_starts < 1 or n_jobs < 1:
        raise InputError(f"`n_boot` must be >= 0, `n_starts` and `n_jobs` >= 1, but got {n_boot}, {n_starts}, {n_jobs}")


def lift_arrays(lift_tests: pd.DataFrame | None, data: ModelData) -> LiftTests | None:
    """Check the lift-test frame and turn it into arrays over the data's periods."""
    if lift_tests is None or len(lift_tests) == 0:
        return None
    missing = [c for c in LIFT_COLUMNS if c not in lift_tests.columns]
    if missing:
        raise InputError(f"lift tests need columns {list(LIFT_COLUMNS)}; missing {missing}")
    unknown = sorted(set(lift_tests["channel"].astype(str)) - set(data.channels))
    if unknown:
        raise InputError(f"lift tests name channels {reprlib.repr(unknown)} that have no spend column; "
                         f"spend columns: {reprlib.repr(data.channels)}")
    se = pd.to_numeric(lift_tests["se"], errors="coerce").to_numpy(float)
    lift = pd.to_numeric(lift_tests["lift"], errors="coerce").to_numpy(float)
    if not (np.isfinite(se).all() and (se > 0).all() and np.isfinite(lift).all()):
        bad = lift_tests[~(np.isfinite(se) & (se > 0) & np.isfinite(lift))].head(3)
        raise InputError(f"lift tests need a number `lift` and a positive `se`; rows {bad.to_dict('records')}")
    start, end = pd.to_datetime(lift_tests["start"]), pd.to_datetime(lift_tests["end"])
    mask = np.vstack([(data.dates >= s) & (data.dates <= e) for s, e in zip(start, end)])
    empty = ~mask.any(axis=1)
    if empty.any():
        raise InputError(f"lift tests {lift_tests[empty].head(3).to_dict('records')} cover no period of the panel "
                         f"({data.dates[0].date()}..{data.dates[-1].date()})")
    channel = np.array([data.channels.index(str(c)) for c in lift_tests["channel"]])
    return LiftTests(channel, mask, lift, se)


def _status(data: ModelData, unique: np.ndarray, lift: LiftTests | None) -> list[str]:
    """``ok``, ``no_spend`` or ``not_identifiable`` (too little own variation and no lift test)."""
    out = []
    for c in range(len(data.channels)):
        s = data.spend[:, c]
        tested = lift is not None and (lift.channel == c).any()
        if s.sum() <= 0:
            out.append("no_spend")
        elif not tested and (unique[c] < MIN_UNIQUE or s.std() < MIN_SPEND_CV * s.mean()):
            out.append("not_identifiable")
        else:
            out.append("ok")
    return out


def fit_model_data(data: ModelData, *, lift_tests: pd.DataFrame | None = None, level: float = 90,
                   n_boot: int = 100, block: int | None = None, n_starts: int = 3, prior_weight: float = 1.0,
                   seed: int = 0, n_jobs: int = 2) -> MMMResult:
    """Fit on prepared :class:`ModelData` (see :func:`fit_mmm` for the options)."""
    _validate(level, n_boot, n_starts, n_jobs)
    grid = build_grid(data)
    lift = lift_arrays(lift_tests, data)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    first = fit_once(data, grid, n_starts=n_starts, rng=rng)
    dof = max(1, data.n - data.base.shape[1] - 3 * len(data.channels))
    sigma2 = first.sse / dof
    point = fit_once(data, grid, lift=lift, sigma2=sigma2, prior_weight=prior_weight, n_starts=n_starts,
                     rng=rng, init=first.choice)
    draws = bootstrap_fits(data, grid, point, n_boot=n_boot, block=block, lift=lift, sigma2=sigma2,
                           prior_weight=prior_weight, seed=seed, n_jobs=n_jobs)
    pinned = np.zeros(len(data.channels), dtype=bool)
    if lift is not None:
        pinned[np.unique(lift.channel)] = True
    # identifiable: own variation both in the spend itself and in the fitted response to it
    unique = np.minimum(unique_variation(data, data.spend, pinned=pinned),
                        unique_variation(data, point.features(data), pinned=pinned))
    opts = dict(n_boot=n_boot, block=block, n_starts=n_starts, prior_weight=prior_weight, seed=seed)
    return MMMResult(data, grid, point, draws, float(level), float(sigma2), lift, unique,
                     _status(data, unique, lift), opts)


def fit_mmm(panel: pd.DataFrame, *, date_col: str = "date", target_col: str = "sales",
            spend_cols: Sequence[str], control_cols: Sequence[str] = (), freq: Literal["D", "W"] = "D",
            lift_tests: pd.DataFrame | None = None, level: float = 90, n_boot: int = 100,
            block: int | None = None, n_starts: int = 3, prior_weight: float = 1.0, festivals: bool = True,
            seed: int = 0, n_jobs: int = 2) -> MMMResult:
    """Fit the marketing mix model to a wide panel (one row per date).

    Defaults: target ``sales``, daily (``freq="D"``; ``"W"`` sums to Monday-Sunday weeks), 90 %
    intervals from 100 block-bootstrap refits (block 28 days / 4 weeks), 3 seeded starts, the
    saturation prior at weight 1, festival columns on, ``seed=0``, 2 worker processes. Levels are
    percentages. Same inputs and seed, same result.
    """
    prepared = prepare_panel(panel, date_col=date_col, target_col=target_col, spend_cols=spend_cols,
                             control_cols=control_cols, freq=freq)
    data = model_data(prepared, target_col=target_col, spend_cols=spend_cols, control_cols=control_cols,
                      festivals=festivals)
    return fit_model_data(data, lift_tests=lift_tests, level=level, n_boot=n_boot, block=block,
                          n_starts=n_starts, prior_weight=prior_weight, seed=seed, n_jobs=n_jobs)
