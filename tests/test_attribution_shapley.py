"""Shapley values on a path table worked out by hand, and checked against exact enumeration."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.attribution.paths import normalize_paths
from channelkit.attribution.shapley import coalition_worth, shapley, shapley_ordered, shapley_values
from channelkit.errors import InputError

# coalitions: {a}: 2 conv; {a,b}: 2 conv + 1 null; {b,c}: 3 conv; {c}: 5 nulls
ROWS = [("a", 2, 20, 0), ("a > b", 2, 40, 1), ("b > c > b", 3, 90, 0), ("c", 0, 0, 5)]


def _table() -> pd.DataFrame:
    return normalize_paths(pd.DataFrame(ROWS, columns=["path", "conversions", "value", "nulls"]))


def _by_channel(df: pd.DataFrame, col: str) -> dict[str, float]:
    return dict(zip(df["channel"], df[col]))


def test_zhao_simplified_by_hand():
    # phi_c = sum over coalitions T containing c of R(T)/|T|
    # a = 2 + 2/2 = 3; b = 2/2 + 3/2 = 2.5; c = 3/2 = 1.5 (sum 7 = all conversions)
    # value the same way: a = 20 + 40/2 = 40; b = 40/2 + 90/2 = 65; c = 45
    out = shapley(_table())
    assert _by_channel(out, "conversions") == pytest.approx({"a": 3.0, "b": 2.5, "c": 1.5})
    assert _by_channel(out, "value") == pytest.approx({"a": 40.0, "b": 65.0, "c": 45.0})


def test_simplified_formula_equals_textbook_enumeration():
    # v(S) = conversions of journeys whose channels all lie in S:
    # v(a)=2, v(b)=0, v(c)=0, v(ab)=4, v(ac)=2, v(bc)=3, v(abc)=7
    # phi_a = 1/3 [v(a)] + 1/6 [v(ab)-v(b)] + 1/6 [v(ac)-v(c)] + 1/3 [v(abc)-v(bc)]
    #       = 2/3 + 4/6 + 2/6 + 4/3 = 3
    worth = coalition_worth(_table())
    assert worth(frozenset("ab")) == 4 and worth(frozenset("bc")) == 3 and worth(frozenset("abc")) == 7
    exact = shapley_values(worth, ["a", "b", "c"])
    assert exact == pytest.approx({"a": 3.0, "b": 2.5, "c": 1.5})


def test_conversion_rate_variant_by_hand():
    # CR(a)=1, CR(ab)=2/3, CR(bc)=1, CR(c)=0 -> a = 1 + 1/3 = 4/3, b = 1/3 + 1/2 = 5/6, c = 1/2
    # sum 8/3, rescaled to 7 conversions: a = 3.5, b = 35/16, c = 21/16
    out = shapley(_table(), value="conversion_rate")
    assert _by_channel(out, "conversions") == pytest.approx({"a": 3.5, "b": 35 / 16, "c": 21 / 16})
    # value: credit priced at each coalition's value per conversion (10, 20, 30):
    # a = 1*10 + 1/3*20 = 50/3, b = 1/3*20 + 1/2*30 = 65/3, c = 1/2*30 = 45/3 -> scaled to 150
    assert _by_channel(out, "value") == pytest.approx({"a": 150 * 50 / 160, "b": 150 * 65 / 160, "c": 150 * 45 / 160})
    exact = shapley_values(coalition_worth(_table(), value="conversion_rate"), ["a", "b", "c"])
    assert exact == pytest.approx({"a": 4 / 3, "b": 5 / 6, "c": 0.5})


def test_ordered_shapley_by_hand():
    # b > c > b (3 conv, 2 channels): b's 1.5 split over positions 1 and 3, c's 1.5 at position 2
    # a > b (2 conv): a 1 at position 1, b 1 at position 2; a (2 conv): a 2 at position 1
    out = shapley_ordered(_table())
    got = {(c, p): v for c, p, v in out[["channel", "position", "conversions"]].itertuples(index=False)}
    assert got == pytest.approx({("a", 1): 3.0, ("b", 1): 0.75, ("b", 2): 1.0, ("b", 3): 0.75, ("c", 2): 1.5})
    totals = out.groupby("channel")["conversions"].sum().to_dict()
    assert totals == pytest.approx(_by_channel(shapley(_table()), "conversions"))


def test_errors():
    with pytest.raises(InputError, match="`value` must be one of"):
        shapley(_table(), value="revenue")
    with pytest.raises(InputError, match="no conversions"):
        shapley(normalize_paths(pd.DataFrame({"path": ["a"], "conversions": [0], "nulls": [4]})))
    players = [f"c{i}" for i in range(16)]
    with pytest.raises(InputError, match="at most 15 channels, but got 16"):
        shapley_values(lambda s: float(len(s)), players)
