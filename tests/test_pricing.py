"""Optimal prices, business rules and the scenario simulator."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from channelkit.elasticity import PriceRules, baseline_from_panel, optimal_price, recommend_prices, simulate_scenario
from channelkit.errors import InputError


def test_lerner_price_on_net_of_commission_cost() -> None:
    np.testing.assert_allclose(optimal_price([-2.0, -2.0, -3.0], [10.0, 10.0, 10.0], [0.0, 0.2, 0.0]),
                               [20.0, 25.0, 15.0])
    assert np.isnan(optimal_price(-0.8, 10.0, 0.05))


def test_optimal_price_maximises_profit_numerically() -> None:
    e, c, k = -1.7, 12.0, 0.08
    res = optimize.minimize_scalar(lambda p: -(p * (1 - k) - c) * p ** e, bounds=(c, 200), method="bounded",
                                   options={"xatol": 1e-9})
    assert optimal_price(e, c, k) == pytest.approx(res.x, rel=1e-6)


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "sku": ["A", "A", "B", "C", "D"], "channel": ["tm", "jd", "tm", "tm", "tm"],
        "price": [30.0, 30.0, 30.0, 30.0, 30.0], "elasticity": [-2.0, -3.0, -0.7, np.nan, -5.0],
        "unit_cost": [14.0, 14.0, 10.0, 10.0, 20.0], "commission_rate": [0.0, 0.0, 0.0, 0.0, 0.1],
        "units": [10.0, 10.0, 10.0, 10.0, 10.0]})


def test_rules_bind_in_order_and_statuses() -> None:
    out = recommend_prices(frame(), rules=PriceRules(max_change=0.10, min_margin=0.20, parity_band=None))
    by = out.set_index(["sku", "channel"])
    # A/tm: p* = 28 (within 10% of 30): the optimum stands
    assert by.loc[("A", "tm"), "recommended_price"] == 28.0 and by.loc[("A", "tm"), "binding_rule"] == "optimum"
    # A/jd: p* = 21 -> max 10% cut gives 27
    assert by.loc[("A", "jd"), "recommended_price"] == 27.0 and by.loc[("A", "jd"), "binding_rule"] == "max_change"
    # B: inelastic -> flagged, largest allowed increase
    assert by.loc[("B", "tm"), "pricing_status"] == "inelastic" and by.loc[("B", "tm"), "recommended_price"] == 33.0
    # C: not identified -> price kept
    assert by.loc[("C", "tm"), "pricing_status"] == "not_identified" and by.loc[("C", "tm"), "recommended_price"] == 30.0
    # D: p* = 20/0.9*5/4 = 27.78; margin floor c/(1-k-m) = 20/0.7 = 28.57 wins
    assert by.loc[("D", "tm"), "recommended_price"] == pytest.approx(28.57) and by.loc[("D", "tm"), "binding_rule"] == "min_margin"


def test_max_change_wins_over_parity() -> None:
    out = recommend_prices(frame().iloc[:2], rules=PriceRules(max_change=0.05, min_margin=None, parity_band=0.05))
    np.testing.assert_allclose(out["recommended_price"], [28.5, 28.5])  # parity asks 25.73 / 23.28
    assert out["binding_rule"].eq("max_change").all()


def test_parity_band_and_margin_change() -> None:
    out = recommend_prices(frame().iloc[:2], rules=PriceRules(max_change=0.5, min_margin=None, parity_band=0.05))
    # p* = 28 (tm) and 21 (jd), median 24.5: both clipped into [23.275, 25.725]
    np.testing.assert_allclose(out["recommended_price"], [24.5 * 1.05, 24.5 * 0.95], atol=0.0051)  # cents
    assert out["binding_rule"].eq("parity").all()
    row = out.iloc[0]
    p1 = row["recommended_price"]
    assert row["margin_change"] == pytest.approx((p1 - 14) * 10 * (p1 / 30) ** -2.0 - (30 - 14) * 10)


def test_rule_values_are_checked() -> None:
    with pytest.raises(InputError, match=r"`max_change` must satisfy 0 <= max_change < 1 \(a share\), but got 1.5"):
        PriceRules(max_change=1.5)


def scenario_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    baseline = pd.DataFrame({"sku": ["A", "A"], "channel": ["tm", "jd"], "price": [100.0, 100.0],
                             "units": [10.0, 20.0], "unit_cost": [40.0, 40.0], "commission_rate": [0.05, 0.0]})
    el = pd.DataFrame({"sku": ["A", "A"], "channel": ["tm", "jd"], "elasticity": [-2.0, -1.5], "se": [0.2, 0.1]})
    cross = pd.DataFrame({"channel": ["jd"], "other_channel": ["tm"], "elasticity": [0.5], "se": [0.1]})
    return baseline, el, cross


def test_scenario_own_and_cross_channel_effects() -> None:
    baseline, el, cross = scenario_inputs()
    changes = pd.DataFrame({"sku": ["A"], "channel": ["tm"], "price_change": [-0.10]})
    out = simulate_scenario(changes, baseline, el, cross=cross, seed=3).set_index("channel")
    tm_units = 10 * 0.9 ** -2.0
    jd_units = 20 * 0.9 ** 0.5  # cheaper Tmall takes sales from JD
    assert out.loc["tm", "new_units"] == pytest.approx(tm_units)
    assert out.loc["jd", "units_change"] == pytest.approx(jd_units - 20)
    assert out.loc["tm", "margin_change"] == pytest.approx((90 * 0.95 - 40) * tm_units - (100 * 0.95 - 40) * 10)
    assert out.loc["ALL", "units_change"] == pytest.approx(tm_units - 10 + jd_units - 20)
    for col in ("units_change", "revenue_change", "margin_change"):
        assert (out[f"{col}_low"] <= out[col]).all() and (out[col] <= out[f"{col}_high"]).all()
    assert out.loc["jd", "units_change_high"] < 0


def test_scenario_without_uncertainty_has_point_intervals_and_checks_pairs() -> None:
    baseline, el, _ = scenario_inputs()
    changes = pd.DataFrame({"sku": ["A"], "channel": ["jd"], "new_price": [110.0]})
    out = simulate_scenario(changes, baseline, el.assign(se=0.0), n_draws=50)
    np.testing.assert_allclose(out["units_change_low"], out["units_change"])
    with pytest.raises(InputError, match=r"absent from the baseline: \[\('A', 'douyin'\)\]"):
        simulate_scenario(pd.DataFrame({"sku": ["A"], "channel": ["douyin"], "new_price": [1.0]}), baseline, el)


def test_baseline_from_panel() -> None:
    panel = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-01-27", "2024-01-28"]), "sku": "A",
                          "channel": "tm", "units": [50, 3, 1], "price": [9.0, 10.0, 14.0]})
    base = baseline_from_panel(panel, window=7)
    assert base["units"].iloc[0] == pytest.approx(4 / 7)
    assert base["price"].iloc[0] == pytest.approx((30 + 14) / 4)


def test_recommendations_stay_within_the_observed_price_range_and_say_test_a_step() -> None:
    """Issue 15: A/jd's optimum 21 lies below the lowest price ever paid (26): the price stops at
    26 x 0.95 = 24.70 and the row says to test that step; A/tm's optimum 28 lies inside (set price)."""
    f = frame().assign(price_min=[25.0, 26.0, 28.0, 28.0, 28.0], price_max=[32.0, 31.0, 31.0, 31.0, 31.0])
    out = recommend_prices(f, rules=PriceRules(max_change=0.25, min_margin=None, parity_band=None,
                                               range_margin=0.05)).set_index(["sku", "channel"])
    assert out.loc[("A", "tm"), "recommended_price"] == 28.0 and out.loc[("A", "tm"), "action"] == "set price"
    assert out.loc[("A", "jd"), "recommended_price"] == pytest.approx(24.70)
    assert out.loc[("A", "jd"), "binding_rule"] == "observed_range"
    assert out.loc[("A", "jd"), "action"] == "test a price step"
    assert out.loc[("A", "jd"), "units_change_pct"] == pytest.approx((24.70 / 30) ** -3.0 - 1)
    # B is inelastic: +25 % would be 37.5, the range stops it at 31 x 1.05 = 32.55; C has no elasticity
    assert out.loc[("B", "tm"), "recommended_price"] == pytest.approx(32.55)
    assert out.loc[("B", "tm"), "action"] == "test a price step"
    assert out.loc[("C", "tm"), "action"] == "keep" and out.loc[("C", "tm"), "recommended_price"] == 30.0


def test_rule_counts_and_observed_range_from_a_panel() -> None:
    from channelkit.elasticity import observed_price_range, rule_counts

    panel = pd.DataFrame({"sku": ["A"] * 4 + ["B"] * 2, "channel": "tm", "units": [1, 0, 2, 3, 1, 4],
                          "price": [10.0, 7.0, 12.0, 0.0, 5.0, 6.0]})
    rng = observed_price_range(panel).set_index("sku")
    assert rng.loc["A", "price_min"] == 10.0 and rng.loc["A", "price_max"] == 12.0  # zero-sale and free rows out
    f = frame().assign(price_min=[25.0, 26.0, 28.0, 28.0, 28.0], price_max=[32.0, 31.0, 31.0, 31.0, 31.0])
    recs = recommend_prices(f, rules=PriceRules(max_change=0.25, min_margin=None, parity_band=None))
    counts = rule_counts(recs)
    assert counts["rows"].sum() == len(f)
    # A/jd and B hit the range (test a step); A/tm and D (p* = 20 / 0.9 x 5 / 4 = 27.78) set the optimum; C kept
    by = counts.set_index(["binding_rule", "action"])["rows"]
    assert by[("observed_range", "test a price step")] == 2 and by[("optimum", "set price")] == 2
    assert by[("none", "keep")] == 1
    assert "observed" in counts.set_index("binding_rule").loc["observed_range", "reason"]


def test_free_items_are_kept_and_left_out_of_the_baseline() -> None:
    f = frame()
    f.loc[0, "price"] = 0.0
    out = recommend_prices(f)
    assert out.loc[0, "pricing_status"] == "free_item" and out.loc[0, "recommended_price"] == 0.0
    assert out.loc[0, "change_pct"] == 0.0 and out.loc[0, "action"] == "keep"
    panel = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=4), "sku": "A", "channel": "tm",
                          "units": [2, 5, 2, 2], "price": [10.0, 0.0, 10.0, 10.0]})
    with pytest.warns(UserWarning, match="1 rows with `price` 0"):
        base = baseline_from_panel(panel, window=28)
    assert base.loc[0, "price"] == 10.0 and base.loc[0, "units"] == pytest.approx(6 / 28)


def test_scenario_table_has_no_missing_cells() -> None:
    baseline = pd.DataFrame({"sku": ["A", "A"], "channel": ["tm", "jd"], "price": [10.0, 12.0],
                             "units": [3.0, 1.0], "unit_cost": [4.0, 4.0], "commission_rate": [0.05, 0.0]})
    el = pd.DataFrame({"sku": ["A", "A"], "channel": ["tm", "jd"], "elasticity": [-2.0, -1.5], "se": [0.1, 0.2]})
    out = simulate_scenario(pd.DataFrame({"sku": ["A"], "channel": ["tm"], "price_change": [-0.1]}), baseline, el)
    assert not out.isna().any().any()
    total = out[out["channel"] == "ALL"].iloc[0]
    assert total["price"] == pytest.approx((10 * 3 + 12 * 1) / 4)
    new_q = 3 * 0.9 ** -2.0
    assert total["new_price"] == pytest.approx((9.0 * new_q + 12 * 1) / (new_q + 1))


def test_price_steps_lists_the_steps_to_test() -> None:
    from channelkit.elasticity import price_steps

    f = frame().assign(price_min=[25.0, 26.0, 28.0, 28.0, 28.0], price_max=[32.0, 31.0, 31.0, 31.0, 31.0])
    steps = price_steps(recommend_prices(f, rules=PriceRules(max_change=0.25, min_margin=None, parity_band=None)))
    assert sorted(zip(steps["sku"], steps["channel"])) == [("A", "jd"), ("B", "tm")]
    assert steps["margin_change"].is_monotonic_decreasing
