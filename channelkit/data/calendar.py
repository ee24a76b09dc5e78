"""The Chinese retail calendar: public holidays and shopping festivals, offline.

Spring Festival moves with the lunar calendar, so its date comes from the ``holidays`` package
(bundled data, no network), never from a typed table. The shopping festivals are fixed Gregorian
days with pre-sale windows set by the platforms.

One tidy frame serves the sample generator (demand multipliers), the forecasting engine
(Prophet holidays with windows) and the reports (marking festivals on charts).
"""
from __future__ import annotations

import datetime as dt

import holidays
import pandas as pd

# Shopping festivals: (event name, month, day of the peak, days of pre-sale before the peak,
# days of after-glow). Pre-sale windows follow the platforms' recent practice: 双11 pre-sales open
# in late October, 618 pre-sales in late May.
SHOPPING_FESTIVALS: tuple[tuple[str, int, int, int, int], ...] = (
    ("womens_day_38", 3, 8, 3, 0),
    ("618", 6, 18, 17, 1),
    ("99", 9, 9, 3, 0),
    ("double11", 11, 11, 20, 1),
    ("double12", 12, 12, 5, 0),
)

# Spring Festival: the gift/food surge (年货节) in the weeks before, the courier pause around the
# holiday, and the recovery after it. Offsets are days relative to Chinese New Year's Day.
SPRING_FESTIVAL_PRE_DAYS = 21
SPRING_FESTIVAL_PAUSE = (-3, 6)  # inclusive offsets of the delivery pause

CALENDAR_COLUMNS = ["date", "event", "kind", "offset", "phase"]


def spring_festival_dates(years: range | list[int]) -> dict[int, dt.date]:
    """Chinese New Year's Day (正月初一) for each year, from the ``holidays`` package."""
    out: dict[int, dt.date] = {}
    for year in years:
        cn = holidays.China(years=year)
        days = sorted(d for d, name in cn.items() if "Spring Festival" in name and "Eve" not in name)
        if not days:
            raise ValueError(f"holidays has no Spring Festival for {year}")
        out[year] = days[0]
    return out


def festival_calendar(start: str | dt.date, end: str | dt.date) -> pd.DataFrame:
    """Every festival day between ``start`` and ``end`` (inclusive), one row per day and event.

    Columns: ``date`` (datetime64), ``event`` (``spring_festival``, ``618``, ``double11``, ...),
    ``kind`` (``festival``), ``offset`` (days relative to the event's peak or New Year's Day,
    negative before it) and ``phase``: ``presale``/``peak``/``after`` for shopping festivals,
    ``pre``/``pause``/``after`` for Spring Festival.
    """
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    years = range(start_ts.year - 1, end_ts.year + 2)
    rows: list[tuple] = []
    for year, new_year in spring_festival_dates(years).items():
        peak = pd.Timestamp(new_year)
        lo, hi = SPRING_FESTIVAL_PAUSE
        for offset in range(-SPRING_FESTIVAL_PRE_DAYS, hi + 8):
            phase = "pre" if offset < lo else ("pause" if offset <= hi else "after")
            rows.append((peak + pd.Timedelta(days=offset), "spring_festival", "festival", offset, phase))
    for year in years:
        for name, month, day, pre, after in SHOPPING_FESTIVALS:
            peak = pd.Timestamp(year=year, month=month, day=day)
            for offset in range(-pre, after + 1):
                phase = "presale" if offset < 0 else ("peak" if offset == 0 else "after")
                rows.append((peak + pd.Timedelta(days=offset), name, "festival", offset, phase))
    frame = pd.DataFrame(rows, columns=CALENDAR_COLUMNS)
    frame = frame[(frame["date"] >= start_ts) & (frame["date"] <= end_ts)]
    return frame.sort_values(["date", "event"]).reset_index(drop=True)


def public_holidays(start: str | dt.date, end: str | dt.date) -> pd.DataFrame:
    """China's statutory holidays between ``start`` and ``end``: columns ``date``, ``event``, ``kind``.

    Includes the substituted days off; make-up working days (调休) are workdays and are not listed.
    """
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    cn = holidays.China(years=range(start_ts.year, end_ts.year + 1))
    frame = pd.DataFrame(
        [(pd.Timestamp(d), name) for d, name in cn.items()], columns=["date", "event"]
    )
    frame["kind"] = "holiday"
    frame = frame[(frame["date"] >= start_ts) & (frame["date"] <= end_ts)]
    return frame.sort_values("date").reset_index(drop=True)
