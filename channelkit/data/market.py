"""The shop's market: its time zone, currency and holiday calendar, set once in the report config.

- ``timezone`` (IANA name, default ``Asia/Shanghai``): zone-aware timestamps in the exports are
  converted to it (naive ones are already local shop time).
- ``currency`` (ISO 4217, default ``CNY``): the label of every money axis and table.
- ``holidays``: ``"CN"`` (the default for the sample: China's public holidays plus the shopping
  festivals 618, Double 11, Double 12, 38, 99 and the Spring Festival), any other country code the
  offline ``holidays`` package knows (``"US"``, ``"DE"``...: that country's public holidays, no
  shopping festivals), or ``"none"``. The shop's own festivals and holidays from the ``events``
  table are always added, whatever the code.

:func:`market_calendar` gives the one calendar every notebook and chart uses for that market.
"""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from channelkit.data.calendar import CALENDAR_COLUMNS, festival_calendar, public_holidays
from channelkit.errors import ConfigError

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_CURRENCY = "CNY"
DEFAULT_HOLIDAYS = "CN"
NO_HOLIDAYS = "none"
MARKET_COLUMNS = [*CALENDAR_COLUMNS, "source"]


@dataclass(frozen=True)
class Market:
    """Time zone, currency and holiday calendar of one shop (see the module docstring)."""

    timezone: str = DEFAULT_TIMEZONE
    currency: str = DEFAULT_CURRENCY
    holidays: str = DEFAULT_HOLIDAYS


def market_problems(*, timezone: object = DEFAULT_TIMEZONE, currency: object = DEFAULT_CURRENCY,
                    holidays: object = DEFAULT_HOLIDAYS) -> list[str]:
    """Every problem with the three market settings, as sentences naming the option (empty: fine)."""
    problems = []
    if not isinstance(timezone, str) or not _is_zone(timezone):
        problems.append(f"timezone must be an IANA time zone such as 'Asia/Shanghai' or 'America/New_York', "
                        f"but got {timezone!r}")
    if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
        problems.append(f"currency must be a 3-letter ISO 4217 code such as 'CNY', but got {currency!r}")
    if not isinstance(holidays, str) or not _is_country(holidays):
        problems.append(f"holidays must be 'CN', another country code the holidays package knows (e.g. 'US', "
                        f"'DE') or 'none', but got {holidays!r}")
    return problems


def check_market(market: Market) -> Market:
    """``market`` itself, or one :class:`ConfigError` listing every problem."""
    problems = market_problems(timezone=market.timezone, currency=market.currency, holidays=market.holidays)
    if problems:
        raise ConfigError("market settings: " + "; ".join(problems))
    return market


def _is_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_country(code: str) -> bool:
    import holidays as hol

    return code == NO_HOLIDAYS or code in hol.list_supported_countries()


def market_calendar(start: str | dt.date | pd.Timestamp, end: str | dt.date | pd.Timestamp, *,
                    holidays: str = DEFAULT_HOLIDAYS, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every holiday and festival day of the market between ``start`` and ``end`` (inclusive).

    Columns: ``date``, ``event``, ``kind`` (``holiday``/``festival``), ``offset`` (days from the
    event's peak; for a public holiday and a shop event, from its last day), ``phase`` and
    ``source`` (``calendar`` or ``events``). ``holidays="CN"`` gives the Chinese shopping festivals
    (:func:`~channelkit.data.calendar.festival_calendar`) and public holidays; another country
    code that country's public holidays; ``"none"`` nothing. Festivals and holidays of the shop's
    ``events`` table are added in every case (promotions are not: they are one channel's or one
    SKU's, and the promotion notebook reads them itself).
    """
    problems = market_problems(holidays=holidays)
    if problems:
        raise ConfigError(problems[0])
    start_ts, end_ts = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    parts = []
    if holidays == "CN":
        parts.append(festival_calendar(start_ts, end_ts))
        parts.append(_holiday_rows(public_holidays(start_ts, end_ts)))
    elif holidays != NO_HOLIDAYS:
        parts.append(_holiday_rows(country_holidays(start_ts, end_ts, country=holidays)))
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=CALENDAR_COLUMNS)
    frame = frame.assign(source="calendar")
    own = shop_events(events, start_ts, end_ts)
    if len(own):
        frame = pd.concat([frame, own], ignore_index=True) if len(frame) else own
    frame["date"] = pd.to_datetime(frame["date"])
    return frame[MARKET_COLUMNS].sort_values(["date", "event"]).reset_index(drop=True)


def country_holidays(start: pd.Timestamp, end: pd.Timestamp, *, country: str) -> pd.DataFrame:
    """Public holidays of ``country`` (offline ``holidays`` package): ``date``, ``event``, ``kind``."""
    import holidays as hol

    days = hol.country_holidays(country, years=range(start.year, end.year + 1))
    frame = pd.DataFrame([(pd.Timestamp(d), name) for d, name in days.items()], columns=["date", "event"])
    frame["kind"] = "holiday"
    return frame[(frame["date"] >= start) & (frame["date"] <= end)].reset_index(drop=True)


def _holiday_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(offset=0, phase="holiday")[CALENDAR_COLUMNS] if len(frame) else \
        pd.DataFrame(columns=CALENDAR_COLUMNS)


def shop_events(events: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The ``festival`` and ``holiday`` rows of the shop's events table, in calendar form.

    One row per event day (channels merged); ``offset`` counts days to the event's last day
    (0 on it, negative before), ``phase`` is ``event``.
    """
    if events is None or events.empty:
        return pd.DataFrame(columns=MARKET_COLUMNS)
    own = events[events["kind"].isin(["festival", "holiday"])][["date", "event", "kind"]].drop_duplicates()
    own = own.assign(date=pd.to_datetime(own["date"]).dt.normalize())
    own = own[(own["date"] >= start) & (own["date"] <= end)]
    if own.empty:
        return pd.DataFrame(columns=MARKET_COLUMNS)
    # Each run of consecutive days of one event is one occurrence (an event may repeat yearly).
    own = own.sort_values(["event", "date"])
    run = own.groupby("event")["date"].diff().dt.days.ne(1).cumsum()
    last = own.groupby(run)["date"].transform("max")
    return own.assign(offset=(own["date"] - last).dt.days, phase="event", source="events")[MARKET_COLUMNS]


def known_events(events: pd.DataFrame | None, start, end, *, holidays: str = DEFAULT_HOLIDAYS) -> pd.DataFrame:
    """The shop's events (all kinds) plus the market calendar's days: ``date, event, channel``.

    What :func:`channelkit.monitoring.label_events` names beside an alert, for this market (it
    would otherwise fall back to the Chinese calendar).
    """
    cal = market_calendar(start, end, holidays=holidays)[["date", "event"]].assign(channel=None)
    own = events[["date", "event", "channel"]] if events is not None and len(events) else cal.iloc[:0]
    return pd.concat([own, cal], ignore_index=True) if len(cal) else own.reset_index(drop=True)


def channel_events(events: pd.DataFrame | None, start, end, *, holidays: str = DEFAULT_HOLIDAYS) -> pd.DataFrame:
    """The events table the channel-level analyses use: the shop's events for whole channels
    (product-level rows, those with a ``sku``, left out) plus the market calendar's festivals and
    holidays that the shop's table does not already hold (matched on date and event name).

    Columns: ``date, event, kind, channel, discount``. ``frame.attrs["sku_events"]`` counts the
    product-level rows left out, so a page can say so.
    """
    columns = ["date", "event", "kind", "channel", "discount"]
    own = events if events is not None else pd.DataFrame(columns=columns)
    product = own["sku"].notna() if "sku" in own else pd.Series(False, index=own.index)
    own = own.loc[~product].reindex(columns=columns)
    cal = market_calendar(start, end, holidays=holidays)
    seen = set(zip(pd.to_datetime(own["date"]), own["event"].astype(str)))
    new = pd.Series([(d, e) not in seen for d, e in zip(cal["date"], cal["event"].astype(str))], index=cal.index,
                    dtype=bool)
    cal = cal.loc[new]
    cal = cal.assign(channel=None, discount=float("nan"))[columns]
    out = pd.concat([f for f in (own, cal) if len(f)], ignore_index=True) if len(own) or len(cal) else \
        pd.DataFrame(columns=columns)
    out["date"] = pd.to_datetime(out["date"])
    out = out.sort_values(["date", "event"]).reset_index(drop=True)
    out.attrs["sku_events"] = int(product.sum())
    return out


def own_festivals(events: pd.DataFrame | None, *, holidays: str = DEFAULT_HOLIDAYS) -> pd.DataFrame | None:
    """The shop's ``festival`` rows of ``events`` that the ``holidays`` calendar does not already hold
    (matched on date and event name), as the forecast's custom ``events``; ``None`` when there are none.

    The sample's events repeat China's festivals, which ``holidays="CN"`` already adjusts for; a
    grocer's "summer_sale" is its own.
    """
    if events is None or events.empty:
        return None
    own = events[(events["kind"] == "festival") & (events["sku"].isna() if "sku" in events else True)]
    if own.empty:
        return None
    dates = pd.to_datetime(own["date"])
    cal = market_calendar(dates.min(), dates.max(), holidays=holidays)
    known = set(zip(cal["date"], cal["event"].astype(str)))
    new = pd.Series([(d, e) not in known for d, e in zip(dates.dt.normalize(), own["event"].astype(str))], index=own.index)
    own = own.loc[new, ["date", "event", "kind"]].drop_duplicates()
    return own.reset_index(drop=True) if len(own) else None


def festival_names(calendar: pd.DataFrame) -> list[str]:
    """The distinct festival names of a market calendar, in date order (for titles and tables)."""
    fest = calendar[calendar["kind"] == "festival"].sort_values("date")
    return list(dict.fromkeys(fest["event"].astype(str)))


def load_market_dataset(path: str | Path, *, timezone: str = DEFAULT_TIMEZONE, mapping: str | Path | None = None):
    """:func:`~channelkit.data.loaders.load_dataset` with zone-aware times converted to ``timezone``."""
    from channelkit.data.coerce import shop_timezone
    from channelkit.data.loaders import load_dataset

    problems = market_problems(timezone=timezone)
    if problems:
        raise ConfigError(problems[0])
    with shop_timezone(timezone):
        return load_dataset(path, mapping=mapping)
