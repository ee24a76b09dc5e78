"""Budget optimiser: constraints always hold, moves only with evidence, gains add up."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.errors import InputError
from channelkit.mmm import fit_mmm, optimise_budget
from channelkit.mmm.optimise import project_budget


@pytest.fixture(scope="module")
def result():
    """Weekly data where channel hi earns 3 per yuan and channel lo 0.5: money should move to hi."""
    rng = np.random.default_rng(5)
    n = 120
    spend = {c: 2_000 * np.exp(rng.normal(0, 0.6, n)) * (rng.random(n) > 0.2) for c in ("hi", "lo", "mid")}
    y = 40_000 + 3_000 * np.sin(2 * np.pi * np.arange(n) / 52.18) + rng.normal(0, 300, n)
    for ch, r in (("hi", 3.0), ("lo", 0.5), ("mid", 1.5)):
        y += r * spend[ch]  # linear response: no saturation in the truth
    frame = pd.DataFrame({"date": pd.date_range("2023-01-02", periods=n, freq="7D"), "sales": y, **spend})
    return fit_mmm(frame, spend_cols=["hi", "lo", "mid"], n_boot=12, festivals=False, n_jobs=1)


def test_project_budget_is_exact_and_inside_bounds() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        lo = rng.uniform(0, 10, 5)
        hi = lo + rng.uniform(0, 10, 5)
        total = rng.uniform(lo.sum(), hi.sum())
        x = project_budget(rng.normal(5, 20, 5), lo, hi, total)
        assert np.isclose(x.sum(), total, rtol=1e-12) and (x >= lo - 1e-9).all() and (x <= hi + 1e-9).all()
    with pytest.raises(InputError, match="outside the bounds' range"):
        project_budget(np.ones(2), np.ones(2), np.full(2, 2.0), 10.0)


@pytest.mark.parametrize("total_factor,bounds", [(1.0, (0.5, 1.5)), (1.3, (0.8, 2.0)), (0.7, (0.0, 1.0))])
def test_constraints_always_hold(result, total_factor, bounds) -> None:
    total = result.data.spend.sum() * total_factor
    plan = optimise_budget(result, total=total, bounds=bounds)
    for col in ("optimal_spend", "advised_spend"):
        assert plan[col].sum() == pytest.approx(total, rel=1e-9)
        assert (plan[col] >= plan["lower"] * (1 - 1e-9)).all() and (plan[col] <= plan["upper"] * (1 + 1e-9)).all()
    assert plan.attrs["gain_lo"] <= plan.attrs["expected_gain"] <= plan.attrs["gain_hi"]
    inside = (plan["gain_lo"] <= plan["expected_gain"]) & (plan["expected_gain"] <= plan["gain_hi"])
    assert inside.all()


def test_money_moves_to_the_channel_that_earns_more(result) -> None:
    plan = optimise_budget(result).set_index("channel")
    assert plan.loc["hi", "advised_spend"] == pytest.approx(plan.loc["hi", "upper"], rel=1e-6)
    assert plan.loc["lo", "advised_spend"] < 0.6 * plan.loc["lo", "spend"]  # cut to near its 50 % bound
    assert plan.loc[["hi", "lo"], "advised"].all()
    assert plan.attrs["gain_lo"] > 0  # moving 50 % of lo's spend to hi earns about (3 - 0.5) per yuan moved
    moved = plan.loc["lo", "spend"] - plan.loc["lo", "advised_spend"]
    assert plan.attrs["expected_gain"] == pytest.approx(2.5 * moved, rel=0.3)


def test_no_move_without_evidence(result) -> None:
    point_only = type(result)(**{**result.__dict__, "draws": []})
    plan = optimise_budget(point_only)
    assert not plan["advised"].any()
    assert np.allclose(plan["advised_spend"], plan["spend"])


def test_per_channel_bounds_in_money(result) -> None:
    spend = result.data.spend.sum(0)
    plan = optimise_budget(result, bounds={"hi": (spend[0], spend[0])}).set_index("channel")
    assert plan.loc["hi", "advised_spend"] == pytest.approx(spend[0])
    with pytest.raises(InputError, match=r"bounds name channels \['nope'\]"):
        optimise_budget(result, bounds={"nope": (0, 1)})
    with pytest.raises(InputError, match="`total` must be a positive budget"):
        optimise_budget(result, total=-5)
