"""Journeys from a raw touch log: one row per touch (impression, click, visit) of a user.

Inputs such as the Criteo Attribution Modeling dataset (``timestamp, uid, campaign, conversion,
conversion_timestamp, conversion_id, ...``) or generic logs (``user, time, channel, converted[,
value]``). Conventions (those of ChannelAttribution's path tables and of the Criteo data):

- A user's touches are sorted by time (ties keep the input order).
- Conversion flag only (``conversion_col``): a touch whose flag is true (1, ``true``, ``yes``) is
  the converting touch; the journey is the user's touches since the previous conversion, up to
  and including it. Its conversion time is that touch's time, its value the touch's ``value_col``.
- Conversion ids (``conversion_id_col``, Criteo's ``conversion_id``): the touches labelled with an
  id form the journey of that (user, id) conversion. With ``conversion_col`` too, touches whose
  flag is false are non-converting whatever their id; without it, a missing id or ``-1`` (Criteo's
  code) marks a non-converting touch. Conversion time: ``conversion_time_col`` when given (Criteo's
  ``conversion_timestamp``), else the journey's last touch; value: ``value_col`` on its last touch.
  Touches after their conversion time do not count for it.
- ``lookback_days``: only touches at most that many days before their conversion count (default: no limit).
- Touches that count for no conversion (after the user's last conversion, or outside the lookback)
  form one non-converting (null) journey per user and gap between conversions, as in
  :func:`channelkit.attribution.paths.build_journeys`. A conversion none of whose touches count is
  left out; the number is in ``journeys.attrs["untouched_conversions"]``.
- Times: datetimes, date text, or numbers read as seconds (Criteo's relative ``timestamp``).

The result has ``build_journeys``' columns (``JOURNEY_COLUMNS``), never user ids; ``path_table``
and every model take it as it is.
"""
from __future__ import annotations

import reprlib

import numpy as np
import pandas as pd

from channelkit.attribution.paths import JOURNEY_COLUMNS
from channelkit.errors import InputError

TRUE_TEXT = {"1", "1.0", "true", "t", "yes", "y"}
FALSE_TEXT = {"0", "0.0", "false", "f", "no", "n", ""}


def _times(values: pd.Series, column: str) -> np.ndarray:
    """``datetime64[ns]`` values: numbers are seconds, text is parsed; unreadable ones raise."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        ts = pd.to_datetime(pd.to_numeric(values), unit="s", errors="coerce")
    else:
        ts = pd.to_datetime(values, errors="coerce")
        if getattr(ts.dt, "tz", None) is not None:  # one clock for every user: UTC
            ts = ts.dt.tz_convert(None)
    bad = values[ts.isna().to_numpy()]
    if len(bad):
        raise InputError(f"column `{column}` must hold times, but {len(bad)} value(s) do not parse, e.g. "
                         f"{reprlib.repr(bad.astype(str).unique()[:5].tolist())}")
    return ts.to_numpy("datetime64[ns]")


def _flags(values: pd.Series, column: str) -> np.ndarray:
    """Booleans from 0/1, true/false or yes/no (missing = false)."""
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).to_numpy(bool)
    if pd.api.types.is_numeric_dtype(values):
        return values.fillna(0).to_numpy(float) != 0
    text = values.astype("string").str.strip().str.lower().fillna("")
    bad = text[~text.isin(TRUE_TEXT | FALSE_TEXT)]
    if len(bad):
        raise InputError(f"column `{column}` must hold 0/1, true/false or yes/no, but got "
                         f"{reprlib.repr(bad.unique()[:5].tolist())}")
    return text.isin(TRUE_TEXT).to_numpy()


def _check(touches: pd.DataFrame, cols: dict[str, str | None], lookback_days: float | None) -> None:
    missing = {k: v for k, v in cols.items() if v is not None and v not in touches.columns}
    if missing:
        raise InputError(f"touch log is missing column(s) {sorted(missing.values())} (named by "
                         f"{', '.join(sorted(missing))}); it has {reprlib.repr(list(touches.columns))}")
    if cols["conversion_col"] is None and cols["conversion_id_col"] is None:
        raise InputError("name the conversions: `conversion_col` (the converting touch is flagged) "
                         "and/or `conversion_id_col` (touches labelled with their conversion's id)")
    if cols["conversion_time_col"] and not cols["conversion_id_col"]:
        raise InputError("`conversion_time_col` needs `conversion_id_col` (with flags only, the converting "
                         "touch's time is the conversion time)")
    if lookback_days is not None and not lookback_days > 0:
        raise InputError(f"`lookback_days` must be > 0 or None, but got {lookback_days}")
    for key in ("user_col", "channel_col"):
        na = touches[cols[key]].isna().to_numpy()
        if na.any():
            raise InputError(f"column `{cols[key]}` has {int(na.sum())} missing value(s), e.g. in rows "
                             f"{np.flatnonzero(na)[:5].tolist()}; every touch needs a user and a channel")


def _numbers(values: pd.Series, column: str) -> np.ndarray:
    num = pd.to_numeric(values, errors="coerce")
    bad = values[num.isna().to_numpy() & values.notna().to_numpy()]
    if len(bad):
        raise InputError(f"column `{column}` must hold numbers, but got {reprlib.repr(bad.unique()[:5].tolist())}")
    return num.fillna(0.0).to_numpy(float)


def _id_events(user: np.ndarray, ids: pd.Series, flag: np.ndarray | None) -> np.ndarray:
    """Event number (0..C-1) of each touch's (user, id) conversion, -1 for non-converting touches."""
    text = ids.astype(pd.StringDtype("pyarrow")).str.strip()  # Arrow: C-speed text on big logs
    none = (ids == -1) if pd.api.types.is_numeric_dtype(ids) else text.isin(["", "-1"])  # numbers: -1.0 too
    has = (text.notna() & ~none.fillna(False).astype(bool)).to_numpy(bool)
    has &= flag if flag is not None else True
    id_code, uniq = pd.factorize(text[has])
    codes, _ = pd.factorize(user[has].astype(np.int64) * max(len(uniq), 1) + id_code)  # one per (user, id)
    event = np.full(len(user), -1, dtype=np.int64)
    event[has] = codes
    return event


def _flag_events(user: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """In (user, time) order: each touch's next conversion of the same user (itself when flagged)."""
    before = np.cumsum(flag) - flag  # conversions ahead of this touch in the whole log
    conv_user = np.r_[user[flag], -1]  # padded: past the last conversion there is no user
    same = conv_user[before] == user
    return np.where(same, before, -1).astype(np.int64)


def _gap_keys(user: np.ndarray, ts: np.ndarray, conv_user: np.ndarray, conv_ts: np.ndarray) -> np.ndarray:
    """A key shared by a user's touches between the same two conversions (merged in (user, time)
    order, a conversion first on a tie: a touch at a conversion's instant falls after it)."""
    n, c = len(user), len(conv_user)
    all_user = np.r_[conv_user, user].astype(np.int64)
    kind = np.r_[np.zeros(c, np.int8), np.ones(n, np.int8)]
    order = np.lexsort((kind, np.r_[conv_ts, ts], all_user))
    passed = np.empty(n + c, dtype=np.int64)
    passed[order] = np.cumsum(kind[order] == 0)
    return all_user[c:] * (c + 1) + passed[c:]


def _journey_frame(t: pd.DataFrame, event: np.ndarray, conv: pd.DataFrame) -> pd.DataFrame:
    """``JOURNEY_COLUMNS`` from touches in (user, time) order and their kept conversion ``event``."""
    assigned = event >= 0
    c = len(conv)
    null_key = _gap_keys(t["user"].to_numpy()[~assigned], t["ts"].to_numpy()[~assigned],
                         conv["user"].to_numpy(), conv["ts"].to_numpy())
    key = event.copy()
    key[~assigned] = c + np.unique(null_key, return_inverse=True)[1].ravel()
    _, journey = np.unique(key, return_inverse=True)
    order = np.argsort(journey, kind="stable")  # stable: time order inside each journey
    journey, ev, ok = journey.ravel()[order], event[order], assigned[order]
    starts = np.r_[0, np.flatnonzero(np.diff(journey)) + 1] if len(journey) else np.array([], int)
    position = np.arange(len(journey)) - np.repeat(starts, np.diff(np.r_[starts, len(journey)]))
    pick = np.where(ok, ev, c)  # row c of the padded arrays: no conversion (NaT, value 0)
    out = pd.DataFrame({
        "journey": journey, "position": position, "channel": t["channel"].to_numpy()[order],
        "ts": t["ts"].to_numpy()[order], "converted": ok,
        "value": np.r_[conv["value"].to_numpy(float), 0.0][pick],
        "conversion_ts": np.r_[conv["ts"].to_numpy("datetime64[ns]"), np.datetime64("NaT", "ns")][pick],
    })
    return out[JOURNEY_COLUMNS]


def touch_journeys(touches: pd.DataFrame, *, user_col: str = "customer_id", time_col: str = "ts",
                   channel_col: str = "channel", conversion_col: str | None = None,
                   conversion_id_col: str | None = None, value_col: str | None = None,
                   conversion_time_col: str | None = None, lookback_days: float | None = None) -> pd.DataFrame:
    """Long frame of journeys (``JOURNEY_COLUMNS``) from a touch log, by the module's conventions.

    At least one of ``conversion_col`` and ``conversion_id_col`` is required; ``value_col``
    default ``None`` (value 0); ``conversion_time_col`` (with ``conversion_id_col`` only) default
    ``None`` (the journey's last touch); ``lookback_days`` default ``None`` (no limit).
    """
    cols = {"user_col": user_col, "time_col": time_col, "channel_col": channel_col, "conversion_col": conversion_col,
            "conversion_id_col": conversion_id_col, "value_col": value_col, "conversion_time_col": conversion_time_col}
    _check(touches, cols, lookback_days)
    t = pd.DataFrame({"user": pd.factorize(touches[user_col])[0], "row": np.arange(len(touches)),
                      "ts": _times(touches[time_col], time_col), "channel": touches[channel_col].astype(str).to_numpy(),
                      "value": _numbers(touches[value_col], value_col) if value_col else 0.0,
                      "flag": _flags(touches[conversion_col], conversion_col) if conversion_col else False})
    if conversion_id_col:
        t["event"] = _id_events(t["user"].to_numpy(), touches[conversion_id_col],
                                t["flag"].to_numpy() if conversion_col else None)
        t["conv_ts"] = t["ts"]
        if conversion_time_col:
            has = t["event"].to_numpy() >= 0
            t.loc[has, "conv_ts"] = _times(touches.loc[has, conversion_time_col], conversion_time_col)
    t = t.take(np.lexsort((t["ts"].to_numpy(), t["user"].to_numpy()))).reset_index(drop=True)  # stable
    event, conv = _conversions(t, by_id=bool(conversion_id_col))
    if len(conv):  # a touch counts for its conversion only before it and within the lookback
        age = conv["ts"].to_numpy()[np.maximum(event, 0)] - t["ts"].to_numpy()
        keep = (event >= 0) & (age >= np.timedelta64(0))
        if lookback_days is not None:
            keep &= age <= np.timedelta64(int(lookback_days * 86400), "s")
        event = np.where(keep, event, -1)
    out = _journey_frame(t, event, conv)
    out.attrs["untouched_conversions"] = int(len(conv) - len(np.unique(event[event >= 0])))
    return out


def _conversions(t: pd.DataFrame, *, by_id: bool) -> tuple[np.ndarray, pd.DataFrame]:
    """Each touch's conversion event (-1: none) and the events' ``user, ts, value`` (by event)."""
    if by_id:
        event = t["event"].to_numpy()
        conv = (t.loc[event >= 0].groupby("event", sort=True)
                .agg(user=("user", "first"), ts=("conv_ts", "max"), value=("value", "last")))
        return event, conv.reset_index(drop=True)
    flag = t["flag"].to_numpy(bool)
    return _flag_events(t["user"].to_numpy(), flag), t.loc[flag, ["user", "ts", "value"]].reset_index(drop=True)
