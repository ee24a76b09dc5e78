"""Spend join, CPA/ROAS, budget suggestion and bootstrap intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.attribution.bootstrap import bootstrap_shares, resample_paths
from channelkit.attribution.money import budget_suggestion, channel_economics, spend_by_channel
from channelkit.attribution.paths import normalize_paths
from channelkit.errors import InputError


def _result() -> pd.DataFrame:
    return pd.DataFrame({"channel": ["search", "social", "direct"], "model": "shapley",
                         "conversions": [10.0, 5.0, 4.0], "value": [1000.0, 200.0, 300.0]})


def _spend() -> pd.DataFrame:
    m = pd.DataFrame({"date": ["2025-01-01", "2025-01-02", "2025-01-01", "2025-01-01"],
                      "channel": ["search", "search", "social", "display"], "spend": [150.0, 250.0, 100.0, 50.0]})
    return spend_by_channel(m)


def test_spend_join_cpa_roas_and_channels_without_spend():
    e = channel_economics(_result(), _spend()).set_index("channel")
    assert e.loc["search", "spend"] == 400.0
    assert e.loc["search", "cpa"] == pytest.approx(40.0) and e.loc["search", "roas"] == pytest.approx(2.5)
    assert e.loc["social", "cpa"] == pytest.approx(20.0) and e.loc["social", "roas"] == pytest.approx(2.0)
    # direct has no spend row: kept, with no CPA/ROAS; display is paid but got no credit: 0 conversions
    assert not e.loc["direct", "has_spend"] and np.isnan(e.loc["direct", "roas"])
    assert e.loc["display", "conversions"] == 0 and np.isnan(e.loc["display", "cpa"])
    assert e.loc["display", "roas"] == 0.0


def test_spend_period_filter():
    m = pd.DataFrame({"date": ["2025-01-01", "2025-02-01"], "channel": ["search", "search"], "spend": [1.0, 2.0]})
    assert spend_by_channel(m, start="2025-01-15")["spend"].tolist() == [2.0]
    with pytest.raises(InputError, match="missing column\\(s\\) \\['spend'\\]"):
        spend_by_channel(m.drop(columns="spend"))


def test_budget_suggestion_equalises_marginal_roas():
    # alpha = 0.5, no cap: x_c proportional to (R_c / sqrt(S_c))^2 = R_c^2 / S_c
    # search 1000^2/400 = 2500, social 200^2/100 = 400, display 0 -> budget 550 split 2500:400:0
    e = channel_economics(_result(), _spend())
    s = budget_suggestion(e, model="shapley", alpha=0.5, max_change=0.99).set_index("channel")
    assert s["suggested_spend"].sum() == pytest.approx(550.0)
    # display is held at its floor (1% of 50); the rest splits 2500 : 400
    rest = 550.0 - 0.5
    assert s.loc["display", "suggested_spend"] == pytest.approx(0.5)
    assert s.loc["search", "suggested_spend"] == pytest.approx(rest * 2500 / 2900)
    capped = budget_suggestion(e, model="shapley", max_change=0.3).set_index("channel")
    # +-30%: display floors at 35; search 2500k and social 400k (inside [70, 130]) share the other 515
    assert capped.loc["display", "suggested_spend"] == pytest.approx(35.0)
    assert capped.loc["search", "suggested_spend"] == pytest.approx(515 * 2500 / 2900)
    assert capped.loc["social", "suggested_spend"] == pytest.approx(515 * 400 / 2900)
    assert capped["suggested_spend"].sum() == pytest.approx(550.0)
    with pytest.raises(InputError, match="`alpha` must satisfy 0 < alpha < 1, but got 1.5"):
        budget_suggestion(e, model="shapley", alpha=1.5)
    with pytest.raises(InputError, match="no paid channel has results for model 'markov_o1'"):
        budget_suggestion(e, model="markov_o1")


def test_resample_keeps_journeys_and_value_per_conversion():
    t = normalize_paths(pd.DataFrame({"path": ["a", "a > b", "b"], "conversions": [30, 20, 10],
                                      "value": [300.0, 400.0, 50.0], "nulls": [100, 40, 400]}))
    r = resample_paths(t, np.random.default_rng(1)).set_index("path")
    assert (r["conversions"] + r["nulls"]).sum() == 600
    assert (r["value"] / r["conversions"]).to_dict() == pytest.approx({"a": 10.0, "a > b": 20.0, "b": 5.0})


def test_bootstrap_intervals_cover_the_point_estimate():
    t = normalize_paths(pd.DataFrame({"path": ["a", "a > b", "b", "c > b"], "conversions": [300, 200, 100, 50],
                                      "value": [0, 0, 0, 0], "nulls": [1000, 400, 4000, 500]}))
    ci = bootstrap_shares(t, models=["last_touch", "shapley"], n_boot=40, seed=3)
    assert (ci["share_low"] <= ci["share"]).all() and (ci["share"] <= ci["share_high"]).all()
    # last touch share of a = 300/650; binomial sd ~ 0.02, so a 90% interval is a few points wide
    row = ci.loc[(ci["model"] == "last_touch") & (ci["channel"] == "a")].iloc[0]
    assert row["share"] == pytest.approx(300 / 650)
    assert 0.02 < row["share_high"] - row["share_low"] < 0.12
    again = bootstrap_shares(t, models=["last_touch", "shapley"], n_boot=40, seed=3)
    pd.testing.assert_frame_equal(ci, again)
    with pytest.raises(InputError, match="`level` must satisfy 0 < level < 1, but got 90"):
        bootstrap_shares(t, level=90)


def test_bootstrap_time_decay_from_journeys():
    from channelkit.attribution.paths import build_journeys, path_table
    from channelkit.data.sample.journeys import make_journeys

    start = pd.Timestamp("2024-01-01")
    rng = np.random.default_rng(0)
    orders = pd.DataFrame({"order_id": [f"O{i}" for i in range(3000)], "customer_id": [f"C{i}" for i in range(3000)],
                           "order_ts": start + pd.to_timedelta(rng.integers(30, 600, 3000), unit="D")})
    tp, _ = make_journeys(np.random.default_rng(1), channels=["search", "social", "direct"], orders=orders,
                          n_journeys=5000, start=start, end=pd.Timestamp("2025-12-31"))
    j = build_journeys(tp, orders, lookback_days=14)
    ci = bootstrap_shares(path_table(j), models=["time_decay", "linear"], journeys=j, n_boot=30, seed=1)
    td = ci.loc[ci["model"] == "time_decay"]
    assert set(td["channel"]) == {"search", "social", "direct"}
    assert (td["share_low"] < td["share"]).all() and (td["share"] < td["share_high"]).all()
    assert (td["share_high"] - td["share_low"]).max() < 0.15
    with pytest.raises(InputError, match="`time_decay` needs touch times"):
        bootstrap_shares(path_table(j), models=["time_decay"], n_boot=30)
