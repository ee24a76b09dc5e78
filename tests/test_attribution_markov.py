"""Markov removal effects on path tables worked out by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.attribution.markov import markov, path_states, removal_effects, fit_chain, transition_matrix
from channelkit.attribution.paths import normalize_paths
from channelkit.errors import InputError


def _table(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    return normalize_paths(pd.DataFrame(rows, columns=["path", "conversions", "value", "nulls"]))


def _by_channel(df: pd.DataFrame, col: str) -> dict[str, float]:
    return dict(zip(df["channel"], df[col]))


def test_states_are_sliding_windows_with_repeats_collapsed():
    assert path_states(["a", "a", "b"], 1) == [("a",), ("b",)]
    assert path_states(["a", "a", "b"], 2) == [("a", "a"), ("a", "b")]
    assert path_states(["a", "a", "a"], 2) == [("a", "a")]  # windows (a,a),(a,a) collapse
    assert path_states(["a", "b", "a", "b"], 2) == [("a", "b"), ("b", "a"), ("a", "b")]
    assert path_states(["a"], 3) == [("a",)]  # shorter than the order: the whole path


def test_order1_two_channels_by_hand():
    # paths: a > b (1 conv, value 100), a (1 null), b (1 conv + 1 null, value 50)
    # transitions (weight conv + null): start->a 2, start->b 2, a->b 1, a->null 1, b->conv 2, b->null 1
    # P: start: a 1/2, b 1/2; a: b 1/2, null 1/2; b: conv 2/3, null 1/3
    # P(conv) = 1/2 * 1/2 * 2/3 + 1/2 * 2/3 = 1/6 + 1/3 = 1/2
    # without a: 1/2 * 2/3 = 1/3 -> RE_a = 1 - (1/3)/(1/2) = 1/3;  without b: 0 -> RE_b = 1
    # conversions (total 2): a = 2 * (1/3)/(4/3) = 0.5, b = 1.5
    # value: both conversions end in b, mean value 75, so value REs equal conversion REs: a 37.5, b 112.5
    t = _table([("a > b", 1, 100, 0), ("a", 0, 0, 1), ("b", 1, 50, 1)])
    re = _by_channel(removal_effects(fit_chain(t)), "removal_effect")
    assert re["a"] == pytest.approx(1 / 3)
    assert re["b"] == pytest.approx(1.0)
    out = markov(t)
    assert _by_channel(out, "conversions") == pytest.approx({"a": 0.5, "b": 1.5})
    assert _by_channel(out, "value") == pytest.approx({"a": 37.5, "b": 112.5})
    assert set(out["model"]) == {"markov_o1"}


def test_order1_with_a_loop_by_hand():
    # paths: a > b > c (1 conv), c > b (1 null), b (1 conv)
    # transitions: start->a 1, start->b 1, start->c 1; a->b 1; b->c 1, b->null 1, b->conv 1;
    # c->conv 1, c->b 1.  x_s = P(conv | at s): x_a = x_b, x_b = x_c/3 + 1/3, x_c = 1/2 + x_b/2
    # -> x_b = 3/5, x_c = 4/5, P = (3/5 + 3/5 + 4/5)/3 = 2/3
    # without a: (3/5 + 4/5)/3 = 7/15 -> RE_a = 3/10
    # without b: x_c = 1/2 -> P = 1/6 -> RE_b = 3/4
    # without c: x_b = 1/3 = x_a -> P = 2/9 -> RE_c = 2/3
    # sum RE = 103/60; 2 conversions: a = 36/103, b = 90/103, c = 80/103
    t = _table([("a > b > c", 1, 0, 0), ("c > b", 0, 0, 1), ("b", 1, 0, 0)])
    re = _by_channel(removal_effects(fit_chain(t)), "removal_effect")
    assert re == pytest.approx({"a": 3 / 10, "b": 3 / 4, "c": 2 / 3})
    assert _by_channel(markov(t), "conversions") == pytest.approx({"a": 36 / 103, "b": 90 / 103, "c": 80 / 103})


def test_order2_removes_every_state_holding_the_channel():
    # same paths at order 2: states (a,b),(b,c) | (c,b) | (b,)
    # start -> each of (a,b), (c,b), (b,) with 1/3; (a,b)->(b,c)->conv; (c,b)->null; (b,)->conv
    # P = 2/3; without a: (a,b) gone -> 1/3 -> RE_a = 1/2; without b: every state gone -> RE_b = 1;
    # without c: (b,c) and (c,b) gone -> 1/3 -> RE_c = 1/2; shares 1/4, 1/2, 1/4 of 2 conversions
    t = _table([("a > b > c", 1, 0, 0), ("c > b", 0, 0, 1), ("b", 1, 0, 0)])
    out = markov(t, order=2)
    assert _by_channel(out, "removal_effect") == pytest.approx({"a": 0.5, "b": 1.0, "c": 0.5})
    assert _by_channel(out, "conversions") == pytest.approx({"a": 0.5, "b": 1.0, "c": 0.5})
    assert set(out["model"]) == {"markov_o2"}


def test_repeated_touches_do_not_change_order1_result():
    # a > a > b collapses to a > b at order 1, so both tables give the same chain
    t1 = _table([("a > a > b", 2, 20, 1), ("b", 1, 5, 3)])
    t2 = _table([("a > b", 2, 20, 1), ("b", 1, 5, 3)])
    pd.testing.assert_frame_equal(markov(t1), markov(t2))


def test_transition_matrix_rows_sum_to_one():
    t = _table([("a > b > c", 1, 0, 0), ("c > b", 0, 0, 1), ("b", 1, 0, 0)])
    tm = transition_matrix(t)
    sums = tm.groupby("from")["probability"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)
    assert tm.loc[(tm["from"] == "c") & (tm["to"] == "(conversion)"), "probability"].item() == pytest.approx(0.5)


def test_bad_order_and_no_conversions():
    t = _table([("a", 1, 0, 0)])
    with pytest.raises(InputError, match="`order` must be 1, 2 or 3, but got 4"):
        markov(t, order=4)
    with pytest.raises(InputError, match="no conversions"):
        markov(_table([("a", 0, 0, 3)]))


def test_max_step_truncates_walks_like_the_package():
    # paths a > b > c (conv), c > b (null), b (conv): P(start -> a, b, c) = 1/3 each,
    # P(conv | a) = 0, P(conv | b) = 1/3, P(conv | c) = 1/2.
    # max_step = 1: only a conversion straight after the first channel counts:
    # P = (0 + 1/3 + 1/2)/3 = 5/18; without a: 5/18 -> RE_a = 0; without b: 1/6 -> RE_b = 2/5;
    # without c: 1/9 -> RE_c = 3/5
    t = _table([("a > b > c", 1, 0, 0), ("c > b", 0, 0, 1), ("b", 1, 0, 0)])
    re = _by_channel(removal_effects(fit_chain(t), max_step=1), "removal_effect")
    assert re == pytest.approx({"a": 0.0, "b": 2 / 5, "c": 3 / 5})
    # a long enough walk limit gives the untruncated chain
    long = markov(t, max_step=400).set_index("channel")["conversions"]
    exact = markov(t).set_index("channel")["conversions"]
    assert long.to_numpy() == pytest.approx(exact.to_numpy(), rel=1e-9)
    with pytest.raises(InputError, match="`max_step` must be None or >= 1, but got 0"):
        markov(t, max_step=0)
