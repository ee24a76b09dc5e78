"""The sample's journey generator: shape of the touchpoints and the exactness of its ground truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.attribution.markov import markov
from channelkit.attribution.paths import build_journeys, path_table
from channelkit.attribution.shapley import shapley
from channelkit.data.sample.journeys import (
    LOOKBACK_DAYS,
    chain,
    channel_parameters,
    coalition_value,
    make_journeys,
    true_shapley,
)

CHANNELS = ["search", "social", "kol", "email_sms", "affiliate", "display", "direct"]
START, END = pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31")


def _orders(n: int, n_customers: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = START + pd.to_timedelta(rng.integers(0, 700 * 86400, n), unit="s")
    return pd.DataFrame({"order_id": [f"O{i}" for i in range(n)],
                         "customer_id": [f"C{c:05d}" for c in rng.integers(0, n_customers, n)],
                         "order_ts": ts, "channel": "own_app", "units": 1, "unit_price": 10.0})


@pytest.fixture(scope="module")
def generated():
    orders = _orders(8000, 3000)
    tp, truth = make_journeys(np.random.default_rng(11), channels=CHANNELS, orders=orders, n_journeys=20000,
                              start=START, end=END)
    return orders, tp, truth


def test_touchpoints_shape_and_keys(generated):
    orders, tp, truth = generated
    assert list(tp.columns) == ["customer_id", "ts", "channel"]
    assert not tp.duplicated(["customer_id", "ts", "channel"]).any()
    assert tp.equals(tp.sort_values(["customer_id", "ts", "channel"], ignore_index=True))
    assert set(tp["channel"]) == set(CHANNELS)
    visitors = tp["customer_id"].str.startswith("V")
    assert not set(tp.loc[visitors, "customer_id"]) & set(orders["customer_id"])


def test_rebuilt_journeys_match_the_generated_conversions(generated):
    orders, tp, truth = generated
    j = build_journeys(tp, orders, lookback_days=LOOKBACK_DAYS)
    paths = path_table(j)
    assert paths["conversions"].sum() == truth["n_conversions"]
    assert paths["conversions"].sum() + paths["nulls"].sum() == truth["n_journeys"]
    span = (j["conversion_ts"] - j["ts"]).dropna()
    assert (span >= pd.Timedelta(0)).all() and (span <= pd.Timedelta(days=LOOKBACK_DAYS)).all()


def test_thinning_when_orders_are_scarce():
    orders = _orders(300, 300, seed=1)
    tp, truth = make_journeys(np.random.default_rng(2), channels=CHANNELS, orders=orders, n_journeys=20000,
                              start=START, end=END)
    assert truth["n_conversions"] <= 300
    assert truth["n_journeys"] < 20000
    # the kept journeys convert at the chain's rate (thinning is the same for both outcomes)
    assert truth["n_conversions"] / truth["n_journeys"] == pytest.approx(truth["conversion_probability"], rel=0.15)


def test_truth_is_the_exact_shapley_value_of_the_chain():
    params = channel_parameters(["a", "b"], np.random.default_rng(0)).assign(
        reach=[1.0, 1.0], convert=[0.5, 0.0], drop=[0.5, 0.5], stage=[0.5, 0.5], repeat=[0.0, 0.0])
    start, moves, conv = chain(params)
    # start: a 1/2, b 1/2; a converts 1/2, leaves 1/2; b never converts, goes on to a with 1/2
    # v(a) = 1/2 * 1/2 = 1/4; v(b) = 0; v(ab) = 1/4 + 1/2 * 1/2 * 1/2 = 3/8
    assert coalition_value([0], start, moves, conv) == pytest.approx(0.25)
    assert coalition_value([1], start, moves, conv) == pytest.approx(0.0)
    assert coalition_value([0, 1], start, moves, conv) == pytest.approx(0.375)
    # phi_a = (1/4 + (3/8 - 0)) / 2 = 5/16; phi_b = (0 + 3/8 - 1/4) / 2 = 1/16
    phi = true_shapley(start, moves, conv, np.random.default_rng(0))
    assert phi == pytest.approx([5 / 16, 1 / 16])


def test_estimators_converge_on_a_large_draw():
    # 200k journeys: Shapley is unbiased for the truth, Markov within the documented gap
    orders = _orders(60000, 30000, seed=3)
    tp, truth = make_journeys(np.random.default_rng(5), channels=CHANNELS, orders=orders, n_journeys=200000,
                              start=START, end=END)
    paths = path_table(build_journeys(tp, orders, lookback_days=LOOKBACK_DAYS))
    true = pd.Series(truth["true_share"])
    sh = shapley(paths).set_index("channel")["conversions"]
    mk = markov(paths).set_index("channel")["conversions"]
    assert (sh / sh.sum() - true).abs().max() < 0.01
    assert (mk / mk.sum() - true).abs().max() < truth["max_share_gap_markov"] + 0.01


def test_deterministic_given_the_generator_seed():
    orders = _orders(2000, 800, seed=4)
    a = make_journeys(np.random.default_rng(9), channels=CHANNELS, orders=orders, n_journeys=3000, start=START, end=END)
    b = make_journeys(np.random.default_rng(9), channels=CHANNELS, orders=orders, n_journeys=3000, start=START, end=END)
    pd.testing.assert_frame_equal(a[0], b[0])
    assert a[1] == b[1]
