"""The model's data: a regular daily or weekly series of sales, spend per channel and the baseline design.

Input is a tidy wide frame, one row per date: the target (sales in money), one spend column per
marketing channel and optional control columns (average price, discount, promotion share...).
``freq="W"`` sums target and spend over Monday-Sunday weeks (controls are averaged) and drops
incomplete first and last weeks.

Baseline design (additive, one column group per component of the decomposition):

- ``base``: intercept;
- ``trend``: t and t^2 (t in years from the first period, centred);
- ``seasonality``: yearly Fourier terms ``sin/cos(2 pi k doy / 365.25)``, k = 1..``yearly_order``
  (default 3); day-of-week dummies (Monday the reference) for daily data;
- ``festivals``: one column per festival event and phase from
  :func:`channelkit.data.calendar.festival_calendar` (days of the phase in the period; pre-sale
  phases also get a ramp column, k/n on the k-th of n days, as demand builds towards the peak);
- ``controls``: the control columns, as given.
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from channelkit.data.calendar import festival_calendar
from channelkit.errors import InputError

YEARLY_ORDER = 3


@dataclass(frozen=True)
class ModelData:
    """Everything a fit needs, as arrays over periods (rows)."""

    dates: pd.DatetimeIndex
    y: np.ndarray  # (n,)
    spend: np.ndarray  # (n, C)
    channels: list[str]
    base: np.ndarray  # (n, p) baseline design
    base_names: list[str]
    base_groups: list[str]  # component of each baseline column
    period_days: int

    @property
    def n(self) -> int:
        return len(self.y)


def _check_columns(frame: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise InputError(f"{what} {reprlib.repr(missing)} not in the panel; it has {reprlib.repr(list(frame.columns))}")
    for c in cols:
        values = pd.to_numeric(frame[c], errors="coerce")
        bad = frame.loc[values.isna(), c]
        if len(bad):
            raise InputError(f"{what} {c!r} must be numeric without gaps, but rows {reprlib.repr(list(bad.index[:5]))} "
                             f"hold {reprlib.repr(list(bad.head(5)))}")


def prepare_panel(frame: pd.DataFrame, *, date_col: str = "date", target_col: str = "revenue",
                  spend_cols: Sequence[str], control_cols: Sequence[str] = (),
                  freq: Literal["D", "W"] = "D") -> pd.DataFrame:
    """Validate and aggregate the wide panel to one row per period (index: period start date).

    Errors name the column and show example rows: missing or non-numeric columns, negative spend,
    repeated dates, missing days, fewer than 20 periods.
    """
    if freq not in ("D", "W"):
        raise InputError(f"`freq` must be 'D' or 'W', but got {freq!r}")
    if not spend_cols:
        raise InputError("`spend_cols` must name at least one spend column")
    if date_col not in frame.columns:
        raise InputError(f"date column {date_col!r} not in the panel; it has {reprlib.repr(list(frame.columns))}")
    _check_columns(frame, [target_col], "target column")
    _check_columns(frame, list(spend_cols), "spend column")
    _check_columns(frame, list(control_cols), "control column")
    dates = pd.to_datetime(frame[date_col], errors="coerce")
    if dates.isna().any():
        raise InputError(f"date column {date_col!r} has values that are not dates: "
                         f"{reprlib.repr(list(frame.loc[dates.isna(), date_col].head(5)))}")
    data = frame[[target_col, *spend_cols, *control_cols]].apply(pd.to_numeric).set_index(dates.dt.normalize())
    data.index.name = "date"
    for c in spend_cols:
        if (data[c] < 0).any():
            days = list(data.index[data[c] < 0][:5].date)
            raise InputError(f"spend column {c!r} has negative values on {reprlib.repr(days)}")
    if data.index.duplicated().any():
        dup = data.index[data.index.duplicated()][:5]
        raise InputError(f"date column {date_col!r} repeats dates {reprlib.repr([str(d.date()) for d in dup])}: "
                         "give one row per date (sum the channels' rows first)")
    data = data.sort_index()
    step = _period_days(data.index)
    full = pd.date_range(data.index[0], data.index[-1], freq=f"{step}D")
    if len(full) != len(data):
        gaps = full.difference(data.index)[:5]
        raise InputError(f"the panel misses periods {reprlib.repr([str(d.date()) for d in gaps])}: "
                         "give every day (or week), with zero spend where nothing was spent")
    if freq == "W" and step == 1:
        agg = {c: "sum" for c in (target_col, *spend_cols)} | {c: "mean" for c in control_cols}
        week = data.index - pd.to_timedelta(data.index.dayofweek, unit="D")
        counts = data.groupby(week).size()
        data = data.groupby(week).agg(agg)[counts.to_numpy() == 7]
        data.index.name = "date"
    if len(data) < 20:
        raise InputError(f"the panel has {len(data)} periods; a marketing mix model needs at least 20 (better 100+)")
    return data


def _period_days(index: pd.DatetimeIndex) -> int:
    if len(index) < 2:
        raise InputError("the panel needs at least two dates")
    step = int(pd.Series(index).diff().dt.days.mode().iloc[0])
    if step not in (1, 7):
        raise InputError(f"dates must be daily or weekly, but the usual step is {step} days")
    return step


def baseline_design(dates: pd.DatetimeIndex, period_days: int, controls: pd.DataFrame | None = None, *,
                    yearly_order: int = YEARLY_ORDER,
                    festivals: bool = True) -> tuple[np.ndarray, list[str], list[str]]:
    """The baseline columns, their names and their component groups (see the module docstring)."""
    t = (dates - dates[0]).days.to_numpy() / 365.25
    t = t - t.mean()
    cols, names, groups = [np.ones(len(dates)), t, t ** 2], ["intercept", "trend", "trend2"], ["base", "trend", "trend"]
    mid = dates + pd.Timedelta(days=(period_days - 1) / 2)
    doy = mid.dayofyear.to_numpy()
    for k in range(1, yearly_order + 1):
        ang = 2 * np.pi * k * doy / 365.25
        cols += [np.sin(ang), np.cos(ang)]
        names += [f"yearly_sin{k}", f"yearly_cos{k}"]
        groups += ["seasonality"] * 2
    if period_days == 1:
        for d in range(1, 7):
            cols.append((dates.dayofweek == d).astype(float))
            names.append(f"dow{d}")
            groups.append("seasonality")
    if festivals:
        for name, col in _festival_columns(dates, period_days).items():
            cols.append(col), names.append(name), groups.append("festivals")
    if controls is not None:
        for c in controls.columns:
            cols.append(controls[c].to_numpy(float)), names.append(str(c)), groups.append("controls")
    return np.column_stack(cols), names, groups


def _festival_columns(dates: pd.DatetimeIndex, period_days: int) -> dict[str, np.ndarray]:
    """Days of each festival phase per period (and the pre-sale ramp), dropping empty columns."""
    cal = festival_calendar(dates[0], dates[-1] + pd.Timedelta(days=period_days - 1))
    if cal.empty:
        return {}
    period = ((cal["date"] - dates[0]).dt.days // period_days).to_numpy()
    out = {}
    for (event, phase), rows in cal.groupby(["event", "phase"], sort=True):
        idx = period[rows.index.to_numpy()]
        col = np.bincount(idx, minlength=len(dates))[: len(dates)].astype(float)
        if col.any():
            out[f"{event}_{phase}"] = col
        if phase in ("presale", "pre"):
            off = rows["offset"].to_numpy()
            ramp = (off - off.min() + 1) / (off.max() - off.min() + 1)
            out[f"{event}_{phase}_ramp"] = np.bincount(idx, weights=ramp, minlength=len(dates))[: len(dates)]
    return out


def model_data(panel: pd.DataFrame, *, target_col: str, spend_cols: Sequence[str],
               control_cols: Sequence[str] = (), yearly_order: int = YEARLY_ORDER,
               festivals: bool = True) -> ModelData:
    """Arrays for the fit from a :func:`prepare_panel` result."""
    dates = pd.DatetimeIndex(panel.index)
    period_days = _period_days(dates)
    controls = panel[list(control_cols)] if control_cols else None
    base, names, groups = baseline_design(dates, period_days, controls, yearly_order=yearly_order,
                                          festivals=festivals)
    return ModelData(dates, panel[target_col].to_numpy(float), panel[list(spend_cols)].to_numpy(float),
                     [str(c) for c in spend_cols], base, names, groups, period_days)
