"""Shapley-value attribution on the path table (Zhao, Mahboobi & Bagheri 2018).

Players are channels; a journey's *coalition* is the set of distinct channels it touched.

Coalition worth (``value=``)
- ``"conversions"`` (default, Zhao et al.): ``v(S) = sum_{T subset of S} R(T)``, the conversions
  of journeys that touched only channels in S; divided by the number of journeys it is the
  coalition's conversion rate, i.e. what S converts on its own when every other channel is
  switched off. Each ``R(T)`` is a Harsanyi dividend, so the Shapley value is exactly
  ``phi_c = sum_{T contains c} R(T) / |T|`` (Zhao's simplified formula), for any number of channels.
- ``"conversion_rate"``: ``v(S) = sum_{T subset of S} CR(T)`` with ``CR(T)`` the conversion rate of
  journeys whose channel set is exactly T (conversions / (conversions + nulls)), the variant of
  several open-source tools; ``phi_c = sum_{T contains c} CR(T) / |T|``, rescaled to the total
  conversions. It weighs every coalition equally, however rare.
Both use the same dividend form; :func:`shapley_values` computes the textbook formula over all
``2^n`` coalitions (exact up to ``MAX_EXACT_PLAYERS``) and the tests check they agree.

Value: each coalition's credit is priced at that coalition's mean value per conversion, then
scaled to the total value (with ``"conversions"`` that is exactly ``value(T) / |T|``).

Ordered variant (Zhao et al. section 4): channel c's credit from a journey (``R/|T|``) is split
equally over the positions where c occurs, giving credit per channel *and touch position*; its
channel totals equal the unordered values.
"""
from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from math import factorial

import pandas as pd

from channelkit.attribution.paths import split_path
from channelkit.errors import InputError

MAX_EXACT_PLAYERS = 15
VALUES = ("conversions", "conversion_rate")


def shapley_values(worth: Callable[[frozenset], float], players: list[str]) -> dict[str, float]:
    """Textbook Shapley values ``phi_i = sum_{S without i} |S|!(n-|S|-1)!/n! (v(S+i) - v(S))``.

    ``worth`` maps a frozenset of players to its value (``worth(frozenset()) `` should be 0).
    Exact enumeration of all ``2^n`` coalitions; refuses more than ``MAX_EXACT_PLAYERS`` players.
    """
    n = len(players)
    if n > MAX_EXACT_PLAYERS:
        raise InputError(f"exact Shapley values need at most {MAX_EXACT_PLAYERS} channels, but got {n}; "
                         "use shapley() (dividend form), which has no such limit")
    cache = {frozenset(s): worth(frozenset(s)) for k in range(n + 1) for s in combinations(players, k)}
    phi = {}
    for p in players:
        total = 0.0
        others = [q for q in players if q != p]
        for k in range(n):
            w = factorial(k) * factorial(n - k - 1) / factorial(n)
            for s in combinations(others, k):
                fs = frozenset(s)
                total += w * (cache[fs | {p}] - cache[fs])
        phi[p] = total
    return phi


def coalitions(paths: pd.DataFrame) -> pd.DataFrame:
    """Per distinct channel set: ``coalition`` (sorted tuple), ``conversions``, ``value``, ``nulls``."""
    sets = paths["path"].map(lambda p: tuple(sorted(set(split_path(p)))))
    df = paths.assign(coalition=sets)
    return df.groupby("coalition", as_index=False)[["conversions", "value", "nulls"]].sum()


def _dividends(paths: pd.DataFrame, value: str) -> pd.DataFrame:
    """Coalition dividends: conversions (or conversion rates) and value per distinct channel set."""
    if value not in VALUES:
        raise InputError(f"`value` must be one of {VALUES}, but got {value!r}")
    co = coalitions(paths)
    co["value_per_conversion"] = (co["value"] / co["conversions"].where(co["conversions"] > 0)).fillna(0.0)
    if value == "conversion_rate":
        rate = co["conversions"] / (co["conversions"] + co["nulls"]).where(lambda s: s > 0)
        co["conversions"] = rate.fillna(0.0)
    return co.loc[co["conversions"] > 0]


def shapley(paths: pd.DataFrame, *, value: str = "conversions") -> pd.DataFrame:
    """Shapley attribution: ``channel, model, conversions, value`` (sums equal the table's totals)."""
    total_conv = float(paths["conversions"].sum())
    if total_conv <= 0:
        raise InputError("the path table has no conversions: nothing to attribute")
    co = _dividends(paths, value)
    size = co["coalition"].map(len).to_numpy(float)
    credit = co["conversions"] / size
    per = co.assign(credit=credit, vcredit=credit * co["value_per_conversion"]).explode("coalition")
    out = per.groupby("coalition", as_index=False)[["credit", "vcredit"]].sum()
    conv = out["credit"] / out["credit"].sum() * total_conv
    total_val = float(paths["value"].sum())
    val = out["vcredit"] / out["vcredit"].sum() * total_val if total_val > 0 else out["vcredit"] * 0.0
    return pd.DataFrame({"channel": out["coalition"], "model": "shapley", "conversions": conv, "value": val})


def shapley_ordered(paths: pd.DataFrame) -> pd.DataFrame:
    """Ordered Shapley (``value="conversions"``): ``channel, position, conversions, value`` with
    ``position`` the 1-based touch index; summing over positions gives :func:`shapley`."""
    conv = paths.loc[paths["conversions"] > 0, ["path", "conversions", "value"]].copy()
    conv["touch"] = conv["path"].map(split_path)
    rows = []
    for touches, c, v in conv[["touch", "conversions", "value"]].itertuples(index=False):
        distinct = set(touches)
        count = {ch: touches.count(ch) for ch in distinct}
        for i, ch in enumerate(touches, start=1):
            share = 1.0 / (len(distinct) * count[ch])
            rows.append((ch, i, c * share, v * share))
    out = pd.DataFrame(rows, columns=["channel", "position", "conversions", "value"])
    return out.groupby(["channel", "position"], as_index=False)[["conversions", "value"]].sum()


def coalition_worth(paths: pd.DataFrame, *, value: str = "conversions") -> Callable[[frozenset], float]:
    """``v(S)`` of the chosen game as a function, for :func:`shapley_values` and for inspection."""
    co = _dividends(paths, value)
    table = dict(zip(co["coalition"].map(frozenset), co["conversions"]))

    def worth(s: frozenset) -> float:
        return float(sum(val for t, val in table.items() if t <= s))

    return worth


def channels_of(paths: pd.DataFrame) -> list[str]:
    """Sorted distinct channels of a path table."""
    return sorted({c for p in paths["path"] for c in split_path(p)})

