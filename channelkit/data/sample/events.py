"""The ``events`` table: festival days, public holidays and promotions, one row per event day.

Festivals and holidays apply to every channel (``channel`` empty); promotions name their sales
channel and carry their discount. Festival discounts differ by channel and year, so festival rows
leave ``discount`` empty (``truth["festival_discounts"]`` has them).
"""
from __future__ import annotations

import pandas as pd

from channelkit.data.calendar import festival_calendar, public_holidays

EVENT_COLUMNS = ["date", "event", "kind", "channel", "discount"]


def make_events(dates: pd.DatetimeIndex, promos: pd.DataFrame) -> pd.DataFrame:
    """Festival, holiday and promotion days between the first and last of ``dates``."""
    fest = festival_calendar(dates[0], dates[-1])[["date", "event", "kind"]]
    hol = public_holidays(dates[0], dates[-1])[["date", "event", "kind"]]
    promo_rows = [
        (dates[d], p.event, "promotion", p.channel, p.discount)
        for p in promos.itertuples(index=False) for d in range(p.start_idx, p.end_idx + 1)
    ]
    promo = pd.DataFrame(promo_rows, columns=EVENT_COLUMNS)
    frame = pd.concat([fest.assign(channel=None, discount=float("nan")),
                       hol.assign(channel=None, discount=float("nan")), promo], ignore_index=True)
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    frame = frame.drop_duplicates(["date", "event", "channel"])
    return frame.sort_values(["date", "kind", "event", "channel"], na_position="first", ignore_index=True)
