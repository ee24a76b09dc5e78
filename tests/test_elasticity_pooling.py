"""Empirical-Bayes pooling: a hand-worked example and agreement with statsmodels' Paule-Mandel."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.elasticity.pooling import partial_pool, paule_mandel_tau2
from channelkit.errors import InputError


def test_hand_worked_shrinkage() -> None:
    # Q(tau2) = 2 / (0.25 + tau2) = n - 1 = 2  ->  tau2 = 0.75, B = 0.25 / 1.0 = 0.25
    est = pd.DataFrame({"elasticity": [-1.0, -2.0, -3.0], "se": [0.5, 0.5, 0.5]})
    out = partial_pool(est, group_cols=())
    assert out["tau"].iloc[0] == pytest.approx(np.sqrt(0.75))
    np.testing.assert_allclose(out["shrinkage"], 0.25)
    np.testing.assert_allclose(out["elasticity_pooled"], [-1.25, -2.0, -2.75])
    # (1 - B) se^2 + B^2 Var(mu) with Var(mu) = 1 / sum(1 / (0.25 + 0.75)) = 1/3
    np.testing.assert_allclose(out["se_pooled"], np.sqrt(0.75 * 0.25 + 0.0625 / 3))


def test_tau2_matches_statsmodels_paule_mandel() -> None:
    from statsmodels.stats.meta_analysis import combine_effects

    rng = np.random.default_rng(0)
    se = rng.uniform(0.1, 0.6, 40)
    y = -1.5 + rng.normal(0, 0.3, 40) + rng.normal(0, se)
    ref = combine_effects(y, se ** 2, method_re="pm")
    assert paule_mandel_tau2(y, se, np.ones((40, 1))) == pytest.approx(ref.tau2, rel=1e-6)


def test_category_and_channel_prior_and_missing_estimates() -> None:
    rng = np.random.default_rng(1)
    n = 60
    frame = pd.DataFrame({"category": np.repeat(["tea", "home"], n // 2), "channel": np.tile(["tm", "jd"], n // 2)})
    truth = np.where(frame["category"] == "tea", -2.0, -1.0) + np.where(frame["channel"] == "jd", 0.3, 0.0)
    frame["se"] = 0.2
    frame["elasticity"] = truth + rng.normal(0, 0.2, n)
    frame.loc[0, "elasticity"] = np.nan
    out = partial_pool(frame)
    assert np.isnan(out.loc[0, "elasticity_pooled"])
    assert out.groupby(["category", "channel"])["prior_mean"].first().round(1).to_dict() == {
        ("home", "jd"): -0.7, ("home", "tm"): -1.0, ("tea", "jd"): -1.7, ("tea", "tm"): -2.0}
    # with no true spread left around the prior, tau is near 0 and the estimates move to the prior
    assert out["tau"].iloc[1] < 0.1
    assert (out["elasticity_pooled"] - truth).abs().mean() < (out["elasticity"] - truth).abs().mean()


def test_errors_name_the_problem() -> None:
    with pytest.raises(InputError, match=r"lacks the column\(s\) \['category'\]"):
        partial_pool(pd.DataFrame({"elasticity": [-1.0], "se": [0.1], "channel": ["tm"]}))
    with pytest.raises(InputError, match="at least 3 estimates"):
        partial_pool(pd.DataFrame({"elasticity": [-1.0, np.nan], "se": [0.1, 0.1]}), group_cols=())
