"""Experiments: hand-worked values, agreement with scipy/statsmodels, and recovery of a simulated truth."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from channelkit.errors import InputError
from channelkit.experiments import (analyze_experiment, bootstrap_test, conversion_test, crossing_probability,
                                    cuped_adjust, cuped_test, cuped_theta, minimum_detectable_effect,
                                    naive_peeking_alpha, peeking_check, power_proportions, sample_ratio_check,
                                    sample_size_means, sample_size_proportions, simulate_ab_test,
                                    spending_boundaries, welch_test)
from channelkit.experiments import proportions_ztest as ck_ztest
from channelkit.experiments.compare import welch_arrays


@pytest.fixture(scope="module")
def ab() -> tuple[pd.DataFrame, dict]:
    return simulate_ab_test(40_000, seed=5)


def _users(conv_c: int, n_c: int, conv_t: int, n_t: int) -> pd.DataFrame:
    return pd.DataFrame({"variant": ["control"] * n_c + ["treatment"] * n_t,
                         "converted": [1] * conv_c + [0] * (n_c - conv_c) + [1] * conv_t + [0] * (n_t - conv_t)})


def test_two_proportion_z_hand_worked_and_statsmodels():
    row = conversion_test(_users(100, 1000, 130, 1000)).iloc[0]
    # pooled p = 0.115; se = sqrt(0.115 * 0.885 * 2 / 1000) = 0.0142671; z = 0.03 / se
    assert row["statistic"] == pytest.approx(0.03 / math.sqrt(0.115 * 0.885 * 0.002), rel=1e-9)
    assert row["statistic"] == pytest.approx(2.10274, abs=1e-4)
    z, p = proportions_ztest([130, 100], [1000, 1000])
    assert row["statistic"] == pytest.approx(z, rel=1e-10) and row["p_value"] == pytest.approx(p, rel=1e-10)
    lo, hi = confint_proportions_2indep(130, 1000, 100, 1000, method="wald", compare="diff")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), rel=1e-10)
    assert row["significant"] and row["relative_lift"] == pytest.approx(0.3)


def test_ztest_unequal_groups_against_statsmodels():
    res = ck_ztest((37, 61), (812, 1190), alpha=0.1)
    z, p = proportions_ztest([61, 37], [1190, 812])
    lo, hi = confint_proportions_2indep(61, 1190, 37, 812, method="wald", compare="diff", alpha=0.1)
    assert (res["z"], res["p_value"], res["ci_low"], res["ci_high"]) == pytest.approx((z, p, lo, hi), rel=1e-10)


def test_welch_matches_scipy_and_statsmodels(ab):
    df, _ = ab
    row = welch_test(df).iloc[0]
    c, t = df.loc[df.variant == "control", "revenue"], df.loc[df.variant == "treatment", "revenue"]
    ref = stats.ttest_ind(t, c, equal_var=False)
    assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    lo, hi = CompareMeans(DescrStatsW(t.to_numpy()), DescrStatsW(c.to_numpy())).tconfint_diff(usevar="unequal")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), rel=1e-8)


def test_bootstrap_is_seeded_and_agrees_with_welch_at_large_n(ab):
    df, _ = ab
    a = bootstrap_test(df, n_resamples=1000, seed=3).iloc[0]
    b = bootstrap_test(df, n_resamples=1000, seed=3).iloc[0]
    c = bootstrap_test(df, n_resamples=1000, seed=4).iloc[0]
    assert (a["ci_low"], a["ci_high"]) == (b["ci_low"], b["ci_high"])
    assert a["ci_low"] != c["ci_low"]
    w = welch_test(df).iloc[0]
    assert a["ci_low"] < a["diff"] < a["ci_high"]
    # With 20,000 users a side the CLT holds: percentile and Welch intervals have similar widths.
    assert (a["ci_high"] - a["ci_low"]) == pytest.approx(w["ci_high"] - w["ci_low"], rel=0.1)


def test_intervals_cover_the_simulated_truth_at_their_level():
    """Over 200 simulated tests the 95% intervals cover the true effect 95% of the time
    (binomial sd 1.5 points: accept 90-99%). Array-level functions keep this fast."""
    hits = np.zeros(3)
    for seed in range(200):
        df, truth = simulate_ab_test(4000, seed=1000 + seed)
        treated = (df["variant"] == "treatment").to_numpy()
        conv, rev = df["converted"].to_numpy(), df["revenue"].to_numpy()
        z = ck_ztest((conv[~treated].sum(), conv[treated].sum()), ((~treated).sum(), treated.sum()))
        adjusted = rev - cuped_theta(rev, df["pre_revenue"].to_numpy()) * (df["pre_revenue"] - df["pre_revenue"].mean())
        w, cu = (welch_arrays(y[~treated], y[treated]) for y in (rev, adjusted.to_numpy()))
        hits += [z["ci_low"] <= truth["true_conversion_diff"] <= z["ci_high"],
                 w["ci_low"] <= truth["true_revenue_per_user_diff"] <= w["ci_high"],
                 cu["ci_low"] <= truth["true_revenue_per_user_diff"] <= cu["ci_high"]]
    assert np.all((hits / 200 >= 0.90) & (hits / 200 <= 0.99)), hits / 200


def test_analyze_experiment_runs_every_check(ab):
    df, _ = ab
    res = analyze_experiment(df, covariate_col="pre_revenue", date_col="date")
    assert res.tests["method"].tolist() == ["two-proportion z", "welch", "bootstrap (percentile)",
                                            "CUPED Welch (covariate pre_revenue)"]
    assert not res.srm["mismatch"] and res.peeking["looks"] == 14 and len(res.looks) == 14
    assert res.looks["boundary"].is_monotonic_decreasing


def test_cuped_hand_worked_theta_and_rho_squared():
    x, y = np.array([1.0, 2, 3, 4]), np.array([2.0, 4, 5, 8])
    # sum dx dy = 9.5, sum dx^2 = 5, sum dy^2 = 18.75 -> theta = 1.9, rho^2 = 90.25 / 93.75
    assert cuped_theta(y, x) == pytest.approx(1.9)
    _, info = cuped_adjust(pd.DataFrame({"revenue": y, "pre_revenue": x}))
    assert info["rho"] ** 2 == pytest.approx(90.25 / 93.75)
    assert info["variance_reduction"] == pytest.approx(90.25 / 93.75)


def test_cuped_reduces_variance_by_rho_squared_and_narrows_the_interval(ab):
    df, _ = ab
    _, info = cuped_adjust(df)
    rho = np.corrcoef(df["revenue"], df["pre_revenue"])[0, 1]
    assert info["variance_reduction"] == pytest.approx(rho**2, rel=1e-9) and info["variance_reduction"] > 0.01
    plain, adj = welch_test(df).iloc[0], cuped_test(df).iloc[0]
    ratio = (adj["ci_high"] - adj["ci_low"]) / (plain["ci_high"] - plain["ci_low"])
    assert ratio == pytest.approx(math.sqrt(1 - rho**2), abs=0.01)


def test_sample_size_proportions_against_formula_and_statsmodels():
    res = sample_size_proportions(0.05, 0.10)
    h = 2 * math.asin(math.sqrt(0.055)) - 2 * math.asin(math.sqrt(0.05))
    z = stats.norm.isf(0.025) + stats.norm.isf(0.2)
    assert res["effect_size"] == pytest.approx(h)
    assert res["n_control"] == math.ceil(2 * z**2 / h**2)  # the normal formula, 31,231 users a side
    ref = NormalIndPower().solve_power(proportion_effectsize(0.055, 0.05), alpha=0.05, power=0.8, ratio=1)
    assert res["n_control"] == math.ceil(abs(ref))
    assert power_proportions(0.05, 0.10, res["n_control"]) == pytest.approx(0.8, abs=1e-4)
    assert sample_size_proportions(0.05, 0.005, relative=False)["n_control"] == res["n_control"]


def test_sample_size_means_cohens_table_and_mde():
    assert sample_size_means(1.0, 0.5)["n_control"] == 64  # Cohen (1988): d = 0.5 needs 64 a side
    n = sample_size_means(80.0, 4.0, ratio=2.0)
    ref = TTestIndPower().solve_power(effect_size=0.05, alpha=0.05, power=0.8, ratio=2.0)
    assert n["n_control"] == math.ceil(ref) and n["n_treatment"] == math.ceil(math.ceil(ref) * 2)
    assert minimum_detectable_effect(80.0, 6280) == pytest.approx(4.0, rel=0.01)


def test_obrien_fleming_and_pocock_spending_boundaries_match_published_values():
    t = np.arange(1, 6) / 5
    # Lan-DeMets spending, 5 equal looks, two-sided alpha 0.05 (gsDesign / ldbounds values).
    assert spending_boundaries(t) == pytest.approx([4.877, 3.357, 2.680, 2.290, 2.031], abs=2e-3)
    assert spending_boundaries(t, spending="pocock") == pytest.approx([2.438, 2.427, 2.410, 2.397, 2.386],
                                                                      abs=2e-3)


def test_boundaries_spend_alpha_by_multivariate_normal():
    t = np.array([0.3, 0.55, 1.0])
    b = spending_boundaries(t)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    inside = stats.multivariate_normal(mean=np.zeros(3), cov=cov).cdf(b, lower_limit=-b)
    assert 1 - inside == pytest.approx(0.05, abs=2e-4)
    assert crossing_probability(t, b).sum() == pytest.approx(0.05, abs=1e-6)


def test_naive_peeking_inflates_alpha_as_armitage_1969():
    assert naive_peeking_alpha([0.5, 1.0]) == pytest.approx(0.083, abs=1e-3)
    assert naive_peeking_alpha(np.arange(1, 6) / 5) == pytest.approx(0.142, abs=1e-3)
    assert naive_peeking_alpha(np.arange(1, 11) / 10) == pytest.approx(0.193, abs=1e-3)


def _history(daily: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    rows = []
    for day, (n_c, x_c, n_t, x_t) in enumerate(daily):
        date = pd.Timestamp("2025-01-01") + pd.Timedelta(days=day)
        rows += [(date, "control", n_c, x_c), (date, "treatment", n_t, x_t)]
    return pd.DataFrame(rows, columns=["date", "variant", "users", "conversions"])


def test_peeking_warning_when_stopped_before_the_plan():
    hist = _history([(1000, 50, 1000, 55), (1000, 50, 1000, 70), (1000, 48, 1000, 68)])
    looks, summary = peeking_check(hist, planned_n=12_000)
    # cumulative 148/3000 vs 193/3000: z = 0.015 / sqrt(0.0568333 * 0.9431667 * 2 / 3000) = 2.509
    assert looks["z"].iloc[-1] == pytest.approx(2.5092, abs=1e-4)
    assert looks["info_fraction"].tolist() == pytest.approx([1 / 6, 2 / 6, 3 / 6])
    assert summary["stopped_early"] and "Stopped early by peeking" in summary["warning"]
    assert summary["final_boundary"] > 2.5
    # The same data read as a finished test (no plan) passes: 2.51 beats the 3-look boundary of 1.99
    # and the peeking-adjusted p-value is below 0.05.
    _, unplanned = peeking_check(hist)
    assert not unplanned["stopped_early"] and unplanned["adjusted_p_value"] < 0.05


def test_peeking_warning_without_plan_when_noise_could_reach_the_final_z():
    # Nine looks, insignificant until the last one which just passes p < 0.05.
    hist = _history([(1000, 50, 1000, 50)] * 8 + [(1000, 20, 1000, 85)])
    looks, summary = peeking_check(hist)
    assert looks["nominal_significant"].tolist() == [False] * 8 + [True]
    assert summary["adjusted_p_value"] >= 0.05 and summary["stopped_early"]
    assert summary["effective_alpha"] == pytest.approx(naive_peeking_alpha(np.arange(1, 10) / 9))


def test_sample_ratio_mismatch():
    ok = sample_ratio_check(_users(10, 5000, 10, 5030))
    bad = sample_ratio_check(_users(10, 5000, 10, 5400))
    assert not ok["mismatch"] and bad["mismatch"]
    assert bad["chi2"] == pytest.approx(2 * 200**2 / 5200, rel=1e-9)  # expected 5,200 a side


def test_simulation_is_deterministic():
    a, _ = simulate_ab_test(500, seed=9)
    b, _ = simulate_ab_test(500, seed=9)
    pd.testing.assert_frame_equal(a, b)
    assert a["user_id"].str.fullmatch(r"U\d{7}").all()


def test_errors_name_the_argument():
    df = _users(10, 100, 12, 100)
    with pytest.raises(InputError, match="`alpha` must satisfy 0 < alpha < 1, but got 1.5"):
        conversion_test(df, alpha=1.5)
    with pytest.raises(InputError, match=r"`converted` must hold 0/1 .* e.g. \[2"):
        conversion_test(df.assign(converted=2))
    with pytest.raises(InputError, match=r"lacks column\(s\) \['revenue'\]"):
        welch_test(df)
    with pytest.raises(InputError, match="exactly two variants"):
        conversion_test(pd.concat([df, df.assign(variant="b")]).assign(variant=lambda d: d.variant.where(
            d.index % 3 > 0, "c")))
    with pytest.raises(InputError, match="`level` must satisfy 0 < level < 100, but got 120"):
        bootstrap_test(df.assign(revenue=1.0), level=120)
    with pytest.raises(InputError, match="outside \\(0, 1\\)"):
        sample_size_proportions(0.6, 0.8)
    with pytest.raises(InputError, match="`times` must be increasing"):
        spending_boundaries([0.5, 0.4])
    with pytest.raises(InputError, match="`history` must hold variants 'control' and 'treatment'"):
        peeking_check(_history([(10, 1, 10, 2)]).assign(variant="a"))
