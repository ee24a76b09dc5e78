"""Double machine learning: recovers the elasticity when prices follow recent demand; plain OLS does not."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from channelkit.elasticity import estimate_elasticities
from channelkit.elasticity.dml import compare_with_plain, dml_elasticities
from channelkit.errors import InputError


def dynamic_pricing_panel(seed: int = 11, n_series: int = 12, n_days: int = 300) -> pd.DataFrame:
    """Demand has a persistent state; the seller raises prices after a strong week (true elasticity -1.5)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=n_days)
    rows = []
    for s in range(n_series):
        state, lp, y = np.zeros(n_days), np.full(n_days, np.log(20)), np.zeros(n_days)
        for t in range(n_days):
            state[t] = 0.97 * state[t - 1] + rng.normal(0, 0.08) if t else 0.0
            recent = np.log1p(y[max(0, t - 7):t]).mean() if t else np.log1p(8)
            lp[t] = np.log(20) + 0.6 * (recent - np.log1p(8)) + rng.normal(0, 0.05)
            y[t] = rng.poisson(np.exp(np.log(8) + state[t] - 1.5 * (lp[t] - np.log(20))))
        rows.append(pd.DataFrame({"date": dates, "sku": f"S{s // 2}", "channel": "ab"[s % 2], "units": y,
                                  "price": np.exp(lp)}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def fits() -> tuple[pd.DataFrame, pd.DataFrame]:
    panel = dynamic_pricing_panel()
    learner = HistGradientBoostingRegressor(max_iter=60, random_state=0)
    dml = dml_elasticities(panel, learner=learner, n_folds=3, seed=0, n_threads=1)
    plain = estimate_elasticities(panel, method="ols")
    return plain, dml


def test_dml_recovers_elasticity_under_demand_based_pricing(fits) -> None:
    plain, dml = fits
    assert dml["status"].eq("ok").all() and dml["method"].eq("dml").all()
    assert abs(dml["elasticity"].median() + 1.5) < 0.25
    assert abs(plain["elasticity"].median() + 1.5) > 0.8  # the plain fit mistakes demand-led prices for none
    covered = (dml["ci_low"] <= -1.5) & (-1.5 <= dml["ci_high"])
    assert covered.mean() >= 0.6


def test_comparison_table(fits) -> None:
    plain, dml = fits
    cmp = compare_with_plain(plain, dml)
    assert len(cmp) == 12
    np.testing.assert_allclose(cmp["difference"], cmp["elasticity_dml"] - cmp["elasticity_plain"])
    assert (cmp["difference"] < 0).mean() >= 0.75 and cmp["z"].median() < -1.5


def test_dml_options_are_checked() -> None:
    with pytest.raises(InputError, match="`n_folds` must be at least 2, but got 1"):
        dml_elasticities(dynamic_pricing_panel(n_series=2, n_days=40), n_folds=1)
