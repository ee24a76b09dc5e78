"""Tidy sales panels in, Nixtla long frames out: validation, ids, frequency, gaps and returns.

Every forecasting entry point calls :func:`prepare_panel` first. It turns a panel with a date
column, one or more id columns and a value column into the ``unique_id, ds, y`` frame that
statsforecast, utilsforecast and hierarchicalforecast expect, and keeps the id table so results
can be turned back into the caller's columns.

Conventions (documented here once, used everywhere):

- **Gaps are zero sales.** A sales panel has no row for a period without sales, so every series
  is completed on the regular grid from its *own first period* to the *panel's last period* with
  ``y = 0``. A missing value (NaN) in the value column is treated the same way. New SKUs
  therefore start when they first sold; a SKU that stopped selling keeps zeros up to the end.
- **Returns.** Net units below zero (return-heavy periods) are not negative demand. With
  ``returns="clip"`` (the default) they are set to 0 before fitting; ``"keep"`` fits them as
  they are (forecasts and intervals are still clipped at 0); ``"error"`` refuses them.
- Duplicate (id, date) rows are an error: aggregate the panel first.
- **Known future regressors** (``regressors=("promo", "price")``): numeric columns whose future
  values the planner knows. History rows carry the target; rows dated *after the panel's last
  observation* (the last date with a value) carry the plan with the target empty. Those rows
  become :attr:`PreparedPanel.future`; the missing-target-is-zero rule applies only up to the last
  observation. In the history, a regressor missing on a row (or on a zero-filled gap) takes the
  series' previous value (then its next, then 0): a price holds until it changes, a flag off.
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from channelkit.errors import InputError

ReturnsRule = Literal["clip", "keep", "error"]
UID, DS, Y = "unique_id", "ds", "y"

# Seasonal period of the main cycle per base frequency (utilsforecast/M4 convention).
_SEASON = {"D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4, "h": 24, "H": 24}


@dataclass
class PreparedPanel:
    """A validated panel in long form plus what was done to it.

    ``data`` has columns ``unique_id, ds, y`` sorted by id and date; ``ids`` maps each
    ``unique_id`` to the caller's id columns; ``notes`` counts the cleaning applied.
    """

    data: pd.DataFrame
    ids: pd.DataFrame
    id_cols: tuple[str, ...]
    date_col: str
    value_col: str
    freq: str
    season_length: int
    notes: dict[str, int] = field(default_factory=dict)
    regressors: tuple[str, ...] = ()
    future: pd.DataFrame | None = None

    def with_ids(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Replace ``unique_id`` in ``frame`` by the caller's id columns and ``ds`` by the date column."""
        out = frame.merge(self.ids, on=UID, how="left", validate="many_to_one")
        out = out.drop(columns=UID).rename(columns={DS: self.date_col})
        front = [*self.id_cols, self.date_col]
        return out[front + [c for c in out.columns if c not in front]]


def _short(values: Sequence) -> str:
    """Short repr of example values (numpy scalars shown as plain Python values)."""
    return reprlib.repr([v.item() if hasattr(v, "item") else v for v in values])


def check_columns(panel: pd.DataFrame, columns: Sequence[str], *, what: str = "panel") -> None:
    """Raise :class:`InputError` naming every column of ``columns`` missing from ``panel``."""
    if not isinstance(panel, pd.DataFrame):
        raise InputError(f"`{what}` must be a pandas DataFrame, but got {type(panel).__name__}")
    missing = [c for c in columns if c not in panel.columns]
    if missing:
        raise InputError(
            f"`{what}` is missing column(s) {missing}; it has {_short(panel.columns)}. "
            "Pass `date_col`, `value_col` and `id_cols` to name your own columns."
        )


def parse_dates(values: pd.Series, *, column: str) -> pd.Series:
    """Parse ``values`` to datetime64, raising :class:`InputError` with examples of bad values."""
    parsed = pd.to_datetime(values, errors="coerce")
    bad = values[parsed.isna() & values.notna()]
    if values.isna().any() or len(bad):
        examples = list(bad.unique()[:3]) if len(bad) else ["<empty>"]
        raise InputError(f"column `{column}` must hold dates, but got unparseable values such as {_short(examples)}")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def infer_freq(dates: pd.Series | pd.DatetimeIndex, *, column: str = "date") -> str:
    """The pandas frequency of a set of period dates.

    Uses :func:`pandas.infer_freq` on the sorted distinct dates; when gaps defeat it, the most
    common spacing decides: 1 day -> ``"D"``, 7 days -> ``"W-<weekday of the dates>"``, 28-31
    days on the first of the month -> ``"MS"``. Anything else raises :class:`InputError`.
    """
    uniq = pd.DatetimeIndex(pd.unique(pd.Series(dates))).sort_values()
    if len(uniq) < 3:
        raise InputError(f"cannot infer the frequency of `{column}` from {len(uniq)} distinct date(s); pass `freq`")
    guess = pd.infer_freq(uniq)
    if guess is not None:
        return "D" if guess == "D" else guess
    steps = pd.Series(np.diff(uniq.asi8) // 86_400_000_000_000)
    mode = int(steps.mode().iloc[0])
    if mode == 1:
        return "D"
    if mode == 7 and uniq.dayofweek.nunique() == 1:
        return "W-" + ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"][uniq[0].dayofweek]
    if 28 <= mode <= 31 and (uniq.day == 1).all():
        return "MS"
    raise InputError(
        f"cannot infer a regular frequency from `{column}`: most common spacing is {mode} days "
        f"(dates such as {_short([str(d.date()) for d in uniq[:3]])}); pass `freq`, e.g. 'D' or 'W-MON'"
    )


def season_length_for(freq: str) -> int:
    """Main seasonal period for ``freq``: daily 7, weekly 52, monthly 12, quarterly 4, hourly 24."""
    base = pd.tseries.frequencies.to_offset(freq).name.split("-")[0]
    if base not in _SEASON:
        raise InputError(f"`freq` must be daily, weekly, monthly, quarterly or hourly, but got {freq!r}")
    return _SEASON[base]


def _check_values(panel: pd.DataFrame, value_col: str, returns: ReturnsRule) -> pd.Series:
    values = pd.to_numeric(panel[value_col], errors="coerce")
    bad = panel.loc[values.isna() & panel[value_col].notna(), value_col]
    if len(bad):
        raise InputError(f"column `{value_col}` must be numeric, but got values such as {_short(bad.unique()[:3])}")
    if returns not in ("clip", "keep", "error"):
        raise InputError(f"`returns` must be 'clip', 'keep' or 'error', but got {returns!r}")
    if returns == "error" and (values < 0).any():
        raise InputError(
            f"column `{value_col}` has negative values (returns) such as {_short(values[values < 0].unique()[:3])}; "
            "pass returns='clip' to treat them as zero demand"
        )
    return values


def _complete(long: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Fill every series with zeros on the grid from its first date to the panel's last date."""
    end = long[DS].max()
    first = long.groupby(UID, observed=True)[DS].min()
    pieces = []
    for uid, start in first.items():
        grid = pd.date_range(start, end, freq=freq)
        pieces.append(pd.DataFrame({UID: uid, DS: grid}))
    full = pd.concat(pieces, ignore_index=True)
    out = full.merge(long, on=[UID, DS], how="left")
    out[Y] = out[Y].fillna(0.0)
    return out


def prepare_panel(
    panel: pd.DataFrame,
    *,
    date_col: str = "date",
    value_col: str = "units",
    id_cols: Sequence[str] = ("sku", "channel"),
    freq: str | None = None,
    returns: ReturnsRule = "clip",
    regressors: Sequence[str] = (),
) -> PreparedPanel:
    """Validate ``panel`` and return it as a zero-completed ``unique_id, ds, y`` frame.

    ``freq`` defaults to :func:`infer_freq`. Dates off the frequency's grid (e.g. a Tuesday in a
    ``W-MON`` panel) raise :class:`InputError`. See the module docstring for gaps, returns and
    ``regressors`` (extra columns of ``data``; their planned values in ``future``).
    """
    id_cols = tuple([id_cols] if isinstance(id_cols, str) else id_cols)
    if not id_cols:
        raise InputError("`id_cols` must name at least one column, e.g. ('sku', 'channel')")
    regressors = tuple([regressors] if isinstance(regressors, str) else regressors)
    check_columns(panel, [date_col, value_col, *id_cols, *regressors])
    clash = [r for r in regressors if r in (date_col, value_col, *id_cols)]
    if clash:
        raise InputError(f"`regressors` must be other columns than the date, value and id columns, but got {clash}")
    if panel.empty:
        raise InputError("`panel` has no rows")
    dates = parse_dates(panel[date_col], column=date_col)
    values = _check_values(panel, value_col, returns)
    freq = freq or infer_freq(dates, column=date_col)
    season = season_length_for(freq)
    offset = pd.tseries.frequencies.to_offset(freq)
    off_grid = dates[~dates.map(offset.is_on_offset)] if freq not in ("D", "h", "H") else dates.iloc[:0]
    if len(off_grid):
        raise InputError(f"`{date_col}` has dates off the {freq!r} grid, such as {_short([str(d.date()) for d in off_grid[:3]])}")
    key = panel[list(id_cols)].astype(str)
    dup = pd.concat([key, dates.rename("__d")], axis=1).duplicated()
    if dup.any():
        ex = panel.loc[dup, [*id_cols, date_col]].head(2).to_dict("records")
        raise InputError(f"`panel` has {int(dup.sum())} duplicate ({', '.join(id_cols)}, {date_col}) rows such as {ex}; "
                         "aggregate it first (one row per series and period)")
    ids = key.drop_duplicates().sort_values(list(id_cols)).reset_index(drop=True)
    ids.insert(0, UID, [f"s{i:06d}" for i in range(len(ids))])
    regs = {r: _numeric(panel[r], r).values for r in regressors}
    long = key.assign(**{DS: dates.values, Y: values.values}, **regs).merge(ids, on=list(id_cols))
    long = long[[UID, DS, Y, *regressors]]
    future = None
    if regressors:
        observed = long.loc[long[Y].notna(), DS]
        if observed.empty:
            raise InputError(f"column `{value_col}` has no values: nothing to forecast from")
        plan = (long[DS] > observed.max()).to_numpy()
        future, long = long.loc[plan, [UID, DS, *regressors]].reset_index(drop=True), long.loc[~plan]
    notes = {"negative_periods": int((long[Y] < 0).sum()), "missing_values": int(long[Y].isna().sum())}
    if returns == "clip":
        long[Y] = long[Y].clip(lower=0)
    n_before = len(long)
    long = _complete(long, freq).sort_values([UID, DS]).reset_index(drop=True)
    if regressors:
        filled = long.groupby(UID, observed=True)[list(regressors)].transform(lambda c: c.ffill().bfill())
        long[list(regressors)] = filled.fillna(0.0)
    notes["gap_periods_filled"] = len(long) - n_before
    notes["series"] = len(ids)
    return PreparedPanel(long, ids, id_cols, date_col, value_col, freq, season, notes, regressors, future)


def _numeric(values: pd.Series, column: str) -> pd.Series:
    """A regressor column as floats, or :class:`InputError` with examples of non-numeric values."""
    out = pd.to_numeric(values, errors="coerce")
    bad = values[out.isna() & values.notna()]
    if len(bad):
        raise InputError(f"regressor column `{column}` must be numeric, but got values such as {_short(bad.unique()[:3])}")
    return out.astype(float)


def future_dates(prep: PreparedPanel, h: int) -> pd.DatetimeIndex:
    """The ``h`` periods after the panel's last observation."""
    return pd.date_range(prep.data[DS].max(), periods=h + 1, freq=prep.freq)[1:]


def check_plan(prep: PreparedPanel, uids: Sequence[str], h: int) -> pd.DataFrame:
    """The regressors' planned values for the ``h`` future dates of ``uids``, or :class:`InputError`
    naming the series and dates without a plan. Returns ``unique_id, ds, <regressors>``."""
    grid = pd.DataFrame({UID: list(uids)}).merge(pd.DataFrame({DS: future_dates(prep, h)}), how="cross")
    plan = grid.merge(prep.future, on=[UID, DS], how="left")
    gaps = plan[plan[list(prep.regressors)].isna().any(axis=1)]
    if len(gaps):
        named = prep.with_ids(gaps[[UID, DS]])
        first = named.groupby(list(prep.id_cols), sort=False)[prep.date_col].apply(
            lambda d: ", ".join(x.strftime("%Y-%m-%d") for x in d.iloc[:3]) + (" ..." if len(d) > 3 else ""))
        shown = "; ".join(f"{'/'.join(map(str, k if isinstance(k, tuple) else (k,)))}: {v}" for k, v in
                          first.head(3).items())
        raise InputError(
            f"`regressors` {list(prep.regressors)} need a planned value on every forecast date, but "
            f"{first.size} series lack some ({', '.join(prep.id_cols)}: {shown}); add rows dated after the last "
            f"observation ({prep.data[DS].max():%Y-%m-%d}) with the plan and an empty `{prep.value_col}`")
    return plan
