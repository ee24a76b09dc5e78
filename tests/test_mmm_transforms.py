"""Adstock kernels, half-life and Hill saturation against hand-worked values."""
from __future__ import annotations

import numpy as np

from channelkit.mmm.transforms import (MediaParams, adstock, geometric_weights, half_life, hill, kernels,
                                       max_lag_periods, weibull_weights)


def test_geometric_adstock_by_hand() -> None:
    w = geometric_weights(0.5, 3)  # 1, 0.5, 0.25 normalised by 1.75
    assert np.allclose(w, [4 / 7, 2 / 7, 1 / 7])
    x = adstock(np.array([7.0, 0.0, 0.0, 7.0]), w)
    assert np.allclose(x, [4.0, 2.0, 1.0, 4.0])  # the third lag of the first yuan falls outside L = 3
    assert np.isclose(adstock(np.full(50, 10.0), w)[-1], 10.0)  # steady spend: a yuan stays a yuan


def test_weibull_is_delayed_and_half_life() -> None:
    w = weibull_weights(2.5, 5.0, 28)
    assert w[0] == 0.0 and 3 <= int(np.argmax(w)) <= 4  # mode of Weibull(2.5, 5) is 5 * (1.5/2.5)^(1/2.5) = 4.07
    assert np.isclose(w.sum(), 1.0)
    assert half_life(np.r_[1.0, np.zeros(5)]) == 0.5  # all at lag 0: half arrives in the middle of day 0
    assert np.isclose(half_life(np.array([0.5, 0.5])), 1.0)
    assert np.isclose(half_life(geometric_weights(0.5, 40)), 1.0)  # weight of lag 0 is exactly one half


def test_hill_half_saturation_and_params() -> None:
    assert np.allclose(hill(np.array([0.0, 2.0, 6.0]), 2.0, 1.0), [0.0, 0.5, 0.75])
    assert np.isclose(hill(np.array([4.0]), 2.0, 2.0)[0], 16 / 20)
    spend = np.r_[np.zeros(3), np.full(10, 5.0)]
    m = MediaParams("geometric", (0.0,), 1.0, 1.0)
    h = m.features(spend, 4)
    assert np.allclose(h[3:], 0.5)  # spend at its mean level is at half saturation when k_rel = 1
    assert np.allclose(m.features(spend, 4, scale_spend=3.0)[3:], 0.75)  # K stays at the observed level


def test_default_grids() -> None:
    daily, weekly = kernels(1), kernels(7)
    assert max_lag_periods(1) == 28 and max_lag_periods(7) == 5
    assert {k.kind for k in daily} == {"geometric", "weibull"} and len(weekly) < len(daily)
    assert all(np.isclose(k.weights.sum(), 1.0) for k in daily + weekly)
