"""Rule-based attribution on the path table: first, last, last non-direct, linear, position-based,
and time decay on journeys with touch times.

Every function returns one row per channel: ``channel, model, conversions, value``. Each journey's
conversions and value are split over its touches by fixed weights that sum to 1, so the totals
equal the table's totals. Repeated touches count as separate touches (as in ChannelAttribution's
``linear_touch``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.attribution.paths import split_path
from channelkit.errors import InputError

RESULT_COLUMNS = ["channel", "model", "conversions", "value"]
RULES = ("first_touch", "last_touch", "last_non_direct", "linear", "position_based")


def _touches(paths: pd.DataFrame) -> pd.DataFrame:
    """One row per touch of the converting paths: ``row, position, length, channel``."""
    positional = paths.reset_index(drop=True)  # rows are positions, whatever the caller's index
    conv = positional.loc[positional["conversions"] > 0, ["path"]].copy()
    conv["channel"] = conv["path"].map(split_path)
    conv["length"] = conv["channel"].map(len)
    t = conv.explode("channel")
    t["row"] = t.index
    t["position"] = t.groupby(level=0).cumcount()
    return t.reset_index(drop=True)


def _credit(paths: pd.DataFrame, touches: pd.DataFrame, model: str) -> pd.DataFrame:
    """Sum ``weight * conversions`` and ``weight * value`` per channel."""
    weight = touches["weight"].to_numpy(float)
    conv = paths["conversions"].to_numpy(float)[touches["row"].to_numpy()]
    val = paths["value"].to_numpy(float)[touches["row"].to_numpy()]
    out = pd.DataFrame({"channel": touches["channel"].to_numpy(), "conversions": weight * conv,
                        "value": weight * val})
    out = out.groupby("channel", as_index=False)[["conversions", "value"]].sum()
    out.insert(1, "model", model)
    return out[RESULT_COLUMNS]


def touch_weights(paths: pd.DataFrame, model: str, *, direct_channel: str = "direct", first: float = 0.4,
                  last: float = 0.4) -> pd.DataFrame:
    """Per touch of each converting path: ``row, position, length, channel, weight`` (weights of a
    path sum to 1). ``model`` is one of ``RULES``; the public functions below multiply these
    weights by each path's conversions and value."""
    t = _touches(paths)
    pos, n = t["position"].to_numpy(), t["length"].to_numpy(float)
    if model == "first_touch":
        w = (pos == 0).astype(float)
    elif model == "last_touch":
        w = (pos == n - 1).astype(float)
    elif model == "last_non_direct":
        nd = t.loc[t["channel"] != direct_channel].groupby("row")["position"].max()
        target = t["row"].map(nd).fillna(t["length"] - 1).to_numpy()
        w = (pos == target).astype(float)
    elif model == "linear":
        w = 1.0 / n
    elif model == "position_based":
        if first < 0 or last < 0 or first + last > 1:
            raise InputError(f"`first` and `last` must be >= 0 with first + last <= 1, but got {first}, {last}")
        middle = (1.0 - first - last) / np.maximum(n - 2, 1)
        w = np.where(pos == 0, first, np.where(pos == n - 1, last, middle))
        w = np.where(n == 1, 1.0, w)
        w = np.where(n == 2, np.where(pos == 0, first, last) / (first + last), w)
    else:
        raise InputError(f"`model` must be one of {RULES}, but got {model!r}")
    return t.assign(weight=w)


def first_touch(paths: pd.DataFrame) -> pd.DataFrame:
    """All credit to the first touch of each converting path."""
    return _credit(paths, touch_weights(paths, "first_touch"), "first_touch")


def last_touch(paths: pd.DataFrame) -> pd.DataFrame:
    """All credit to the last touch of each converting path."""
    return _credit(paths, touch_weights(paths, "last_touch"), "last_touch")


def last_non_direct(paths: pd.DataFrame, *, direct_channel: str = "direct") -> pd.DataFrame:
    """All credit to the last touch that is not ``direct_channel``; a path of direct touches only
    keeps its credit on direct (the convention of web-analytics tools)."""
    return _credit(paths, touch_weights(paths, "last_non_direct", direct_channel=direct_channel), "last_non_direct")


def linear(paths: pd.DataFrame) -> pd.DataFrame:
    """Every touch an equal share ``1 / length`` (repeated touches counted)."""
    return _credit(paths, touch_weights(paths, "linear"), "linear")


def position_based(paths: pd.DataFrame, *, first: float = 0.4, last: float = 0.4) -> pd.DataFrame:
    """U-shaped: ``first`` to the first touch, ``last`` to the last, the rest split evenly over the
    middle touches (defaults 40/20/40). One touch takes everything; two touches split
    ``first : last`` rescaled to sum to 1 (50/50 by default)."""
    return _credit(paths, touch_weights(paths, "position_based", first=first, last=last), "position_based")


def time_decay_weights(journeys: pd.DataFrame, *, half_life_days: float = 7.0) -> pd.DataFrame:
    """Touches of the converting journeys with ``weight = 2 ** (-age / half_life)`` normalised within
    each journey (``age`` = conversion time minus touch time, in days)."""
    if half_life_days <= 0:
        raise InputError(f"`half_life_days` must be > 0, but got {half_life_days}")
    j = journeys.loc[journeys["converted"].astype(bool)]
    age = (pd.to_datetime(j["conversion_ts"]) - pd.to_datetime(j["ts"])).dt.total_seconds() / 86400
    if (age < 0).any():
        bad = j.loc[age < 0, "journey"].unique()[:5].tolist()
        raise InputError(f"touches after their conversion in journeys {bad}: timestamps are out of order")
    raw = np.power(2.0, -age.to_numpy() / half_life_days)
    w = raw / pd.Series(raw, index=j.index).groupby(j["journey"]).transform("sum").to_numpy()
    return j.assign(weight=w)


def time_decay(journeys: pd.DataFrame, *, half_life_days: float = 7.0) -> pd.DataFrame:
    """Credit proportional to ``2 ** (-(conversion_ts - ts) / half_life)`` within each converting
    journey (needs the journeys frame of :func:`~channelkit.attribution.paths.build_journeys`)."""
    j = time_decay_weights(journeys, half_life_days=half_life_days)
    w = j["weight"].to_numpy()
    out = pd.DataFrame({"channel": j["channel"].to_numpy(), "conversions": w,
                        "value": w * j["value"].astype(float).to_numpy()})
    out = out.groupby("channel", as_index=False)[["conversions", "value"]].sum()
    out.insert(1, "model", "time_decay")
    return out[RESULT_COLUMNS]
