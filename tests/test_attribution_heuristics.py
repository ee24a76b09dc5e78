"""Rule-based models on a path table worked out by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.attribution import heuristics as h
from channelkit.attribution.paths import normalize_paths
from channelkit.errors import InputError

ROWS = [("a > b > c", 2, 200, 0), ("direct", 1, 50, 0), ("b > direct", 1, 10, 0), ("a > a", 1, 30, 0),
        ("c", 0, 0, 3)]


def _table() -> pd.DataFrame:
    return normalize_paths(pd.DataFrame(ROWS, columns=["path", "conversions", "value", "nulls"]))


def _conv(df: pd.DataFrame) -> dict[str, float]:
    return {c: v for c, v in zip(df["channel"], df["conversions"]) if v != 0}


def test_first_last_and_last_non_direct():
    assert _conv(h.first_touch(_table())) == {"a": 3, "direct": 1, "b": 1}
    assert _conv(h.last_touch(_table())) == {"c": 2, "direct": 2, "a": 1}
    # b > direct credits b; a path of direct only keeps direct
    assert _conv(h.last_non_direct(_table())) == {"c": 2, "direct": 1, "b": 1, "a": 1}


def test_linear_counts_repeated_touches():
    # a > b > c: 2/3 each; direct: 1; b > direct: 1/2 each; a > a: a gets 1 (two halves)
    got = _conv(h.linear(_table()))
    assert got == pytest.approx({"a": 5 / 3, "b": 7 / 6, "c": 2 / 3, "direct": 1.5})
    val = dict(zip(*h.linear(_table())[["channel", "value"]].T.to_numpy()))
    assert val["a"] == pytest.approx(200 / 3 + 30)


def test_position_based_40_20_40():
    # a > b > c: a 0.8, b 0.4, c 0.8; direct 1; b > direct 0.5/0.5; a > a: 0.5 + 0.5
    assert _conv(h.position_based(_table())) == pytest.approx({"a": 1.8, "b": 0.9, "c": 0.8, "direct": 1.5})
    with pytest.raises(InputError, match="first \\+ last <= 1"):
        h.position_based(_table(), first=0.7, last=0.5)


def test_time_decay_half_life():
    # touches 7 days and 0 days before the order, half-life 7 days: weights 1/2 and 1 -> 1/3, 2/3
    conv_ts = pd.Timestamp("2025-06-18 12:00")
    j = pd.DataFrame({"journey": [0, 0], "position": [0, 1], "channel": ["a", "b"],
                      "ts": [conv_ts - pd.Timedelta(days=7), conv_ts], "converted": [True, True],
                      "value": [90.0, 90.0], "conversion_ts": [conv_ts, conv_ts]})
    out = h.time_decay(j, half_life_days=7)
    assert _conv(out) == pytest.approx({"a": 1 / 3, "b": 2 / 3})
    assert dict(zip(out["channel"], out["value"])) == pytest.approx({"a": 30.0, "b": 60.0})


def test_time_decay_rejects_touches_after_the_conversion():
    conv_ts = pd.Timestamp("2025-06-18")
    j = pd.DataFrame({"journey": [4], "position": [0], "channel": ["a"], "ts": [conv_ts + pd.Timedelta(hours=2)],
                      "converted": [True], "value": [1.0], "conversion_ts": [conv_ts]})
    with pytest.raises(InputError, match="touches after their conversion in journeys \\[4\\]"):
        h.time_decay(j)
