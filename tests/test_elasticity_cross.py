"""Cross-price elasticities: across channels of a SKU and between SKUs of a category."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.elasticity import cross_channel_elasticities, cross_price_matrix
from channelkit.errors import InputError


def channel_panel(seed: int = 3, n_sku: int = 30, n_days: int = 365) -> pd.DataFrame:
    """Tmall demand rises 0.5% per 1% JD price rise of the same SKU; no other cross effect."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=n_days)
    rows = []
    for s in range(n_sku):
        lp = {c: np.log(30) + np.repeat(rng.normal(0, 0.15, n_days // 14 + 1), 14)[:n_days] for c in ("tmall", "jd", "app")}
        for c in ("tmall", "jd", "app"):
            cross = 0.5 * (lp["jd"] - np.log(30)) if c == "tmall" else 0.0
            lam = np.exp(np.log(3) - 1.5 * (lp[c] - np.log(30)) + cross)
            rows.append(pd.DataFrame({"date": dates, "sku": f"S{s}", "channel": c, "units": rng.poisson(lam),
                                      "price": np.exp(lp[c])}))
    return pd.concat(rows, ignore_index=True)


def test_cross_channel_matrix_recovers_the_known_effect() -> None:
    out = cross_channel_elasticities(channel_panel()).set_index(["channel", "other_channel"])
    assert len(out) == 6 and out["status"].eq("ok").all()
    target = out.loc[("tmall", "jd")]
    assert abs(target["elasticity"] - 0.5) < 3 * target["se"] and target["ci_low"] > 0.3
    others = out.drop(index=("tmall", "jd"))
    assert (others["elasticity"].abs() < 4 * others["se"]).all()
    assert (others["elasticity"].abs() < 0.2).all()


def test_cross_price_within_category() -> None:
    rng = np.random.default_rng(8)
    dates = pd.date_range("2024-01-01", periods=365)
    rows = []
    skus = {"A": "tea", "B": "tea", "C": "tea", "D": "home", "E": "home", "F": "home"}
    for c in ("tmall", "jd"):
        lp = {s: np.log(20) + np.repeat(rng.normal(0, 0.15, 27), 14)[:365] for s in skus}
        for s, cat in skus.items():
            cross = 0.8 * (lp["B"] - np.log(20)) if s == "A" else 0.0  # B is A's substitute
            lam = np.exp(np.log(6) - 2.0 * (lp[s] - np.log(20)) + cross)
            rows.append(pd.DataFrame({"date": dates, "sku": s, "channel": c, "units": rng.poisson(lam),
                                      "price": np.exp(lp[s]), "category": cat}))
    panel = pd.concat(rows, ignore_index=True)
    out = cross_price_matrix(panel).set_index(["sku", "other_sku"])
    assert len(out) == 12 and set(out["category"]) == {"tea", "home"}
    assert out.loc[("A", "B"), "ci_low"] < 0.8 < out.loc[("A", "B"), "ci_high"]
    assert out.drop(index=("A", "B"))["elasticity"].abs().max() < 0.25


def test_cross_needs_two_channels_and_a_category() -> None:
    one = channel_panel(n_sku=3, n_days=60)
    with pytest.raises(InputError, match="at least 2 channels"):
        cross_channel_elasticities(one[one["channel"] == "jd"])
    with pytest.raises(InputError, match="lacks the column `category`"):
        cross_price_matrix(one)
    with pytest.raises(InputError, match="at least 2 categories"):
        cross_price_matrix(one.assign(category="tea"))
