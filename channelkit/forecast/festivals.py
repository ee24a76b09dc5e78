"""Festival (calendar) adjustment for daily series: divide out, forecast, multiply back.

Statistical models with weekly seasons cannot know that Double 11 is the year's largest day or
that couriers pause around Spring Festival (whose date moves every year). Like the holiday
adjustment of official statistics (X-13's moving-holiday regressors), channelkit estimates one
multiplicative effect per festival day and removes it before fitting:

1. Every day gets a calendar key from the run's calendar (:mod:`channelkit.forecast.calendars`;
   the Chinese one is :func:`channelkit.data.calendar.festival_calendar`): the
   event and the day's offset from its peak (``double11-3``, ``spring_festival+2``); days of two
   events join both keys. Days outside any festival have no key (multiplier 1).
2. A series' *level* on a day is the centred moving average of its non-festival days over
   ``window`` days (default 57, at least 14 such days).
3. The multiplier of a key in a pool of series (default: all series of the same ``channel``,
   since festivals are an online affair and hit channels differently) is a ratio of sums over
   every series and year in the pool: ``m = (sum y + prior) / (sum level + prior)`` with
   ``prior = 10`` pseudo-units shrinking thin pools towards 1.
4. Models are fitted to ``y / m``; forecasts are multiplied by the future day's ``m``. Keys never
   seen in the history (e.g. the first Double 11 of a new shop) get ``m = 1``.

Weekly data (``W-<day>``, each date the first day of its week) is adjusted the same way with
keys counted in weeks: the week holding the event's peak is ``double11+0w``, the weeks before it
``double11-1w``, ``double11-2w``, ... for every week that holds a day of the event's window, and
the level is the centred 13-week average (at least 4 non-festival weeks). Other frequencies pass
through unchanged (no keys).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.forecast.calendars import CN, Calendar
from channelkit.forecast.frames import DS, UID, Y

POOL = "pool"
KEY = "key"
MULT = "multiplier"


def is_adjustable(freq: str) -> bool:
    """Whether :func:`calendar_keys` knows ``freq`` (daily or weekly)."""
    return freq == "D" or freq.startswith("W")


def _empty() -> pd.Series:
    return pd.Series(dtype=object, index=pd.DatetimeIndex([], name=DS), name=KEY)


def calendar_keys(start: pd.Timestamp, end: pd.Timestamp, freq: str = "D", calendar: Calendar = CN) -> pd.Series:
    """Festival key per period start between ``start`` and ``end`` (only periods that have one)."""
    if not is_adjustable(freq) or calendar.empty:
        return _empty()
    weekly = freq != "D"
    pad = pd.Timedelta(days=7 if weekly else 0)
    cal = calendar.days(pd.Timestamp(start) - pad, pd.Timestamp(end) + pad)
    if cal.empty:
        return _empty()
    if weekly:
        week = pd.tseries.frequencies.to_offset(freq)
        period = cal["date"].map(week.rollback)
        peak = (cal["date"] - pd.to_timedelta(cal["offset"], unit="D")).map(week.rollback)
        offsets = ((period - peak).dt.days // 7).map(lambda o: f"{o:+d}w")
        cal = cal.assign(date=period, key=cal["event"] + offsets).drop_duplicates(["date", "key"])
    else:
        cal = cal.assign(key=cal["event"] + cal["offset"].map(lambda o: f"{o:+d}"))
    cal = cal[(cal["date"] >= pd.Timestamp(start)) & (cal["date"] <= pd.Timestamp(end))]
    if cal.empty:
        return _empty()
    return cal["key"].groupby(cal["date"]).agg(lambda k: "|".join(sorted(k))).rename(KEY).rename_axis(DS)


def _levels(wide: pd.DataFrame, festive: np.ndarray, weekly: bool) -> pd.DataFrame:
    window, least = (13, 4) if weekly else (57, 14)
    masked = wide.mask(festive[:, None] & np.ones(wide.shape, bool))
    return masked.rolling(window, center=True, min_periods=least).mean()


def estimate_multipliers(data: pd.DataFrame, pools: pd.Series, *, freq: str = "D",
                         until: pd.Timestamp | None = None, prior: float = 10.0,
                         calendar: Calendar = CN) -> pd.DataFrame:
    """Festival multipliers per pool and key from ``data`` (``unique_id, ds, y``) up to ``until``.

    ``pools`` maps each ``unique_id`` to its pool; ``calendar`` gives the keys (default Chinese).
    Returns ``pool, key, multiplier``.
    """
    if until is not None:
        data = data[data[DS] <= until]
    wide = data.pivot(index=DS, columns=UID, values=Y).sort_index()
    keys = calendar_keys(wide.index.min(), wide.index.max(), freq, calendar).reindex(wide.index)
    festive = keys.notna().to_numpy()
    if not festive.any():
        return pd.DataFrame(columns=[POOL, KEY, MULT])
    level = _levels(wide, festive, weekly=freq != "D")
    y_f, lv_f = wide[festive], level[festive]
    ok = y_f.notna() & lv_f.notna()
    pool_of = pools.reindex(wide.columns).to_numpy()
    rows = []
    for pool in pd.unique(pool_of):
        cols = pool_of == pool
        sy = y_f.loc[:, cols].where(ok.loc[:, cols]).sum(axis=1)
        sl = lv_f.loc[:, cols].where(ok.loc[:, cols]).sum(axis=1)
        frame = pd.DataFrame({KEY: keys[festive].to_numpy(), "sy": sy.to_numpy(), "sl": sl.to_numpy()})
        agg = frame.groupby(KEY)[["sy", "sl"]].sum()
        agg = agg[agg["sl"] > 0]
        rows.append(pd.DataFrame({POOL: pool, KEY: agg.index, MULT: (agg["sy"] + prior) / (agg["sl"] + prior)}))
    return pd.concat(rows, ignore_index=True)


def multipliers_for(frame: pd.DataFrame, pools: pd.Series, table: pd.DataFrame, *, freq: str = "D",
                    calendar: Calendar = CN) -> np.ndarray:
    """The multiplier of each row of ``frame`` (``unique_id, ds``); 1 where none applies."""
    if table.empty:
        return np.ones(len(frame))
    keys = calendar_keys(frame[DS].min(), frame[DS].max(), freq, calendar)
    key = frame[DS].map(keys)
    if key.isna().all():
        return np.ones(len(frame))
    look = pd.DataFrame({POOL: frame[UID].map(pools).astype(str).to_numpy(), KEY: key.astype(object).to_numpy()})
    table = table.assign(**{POOL: table[POOL].astype(str)})
    out = look.merge(table, on=[POOL, KEY], how="left")[MULT].to_numpy(dtype=float)
    return np.where(np.isfinite(out) & (out > 0), out, 1.0)
