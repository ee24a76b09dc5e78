"""The default elasticity engine against pyfixest (the Python port of R's fixest), the field's reference.

pyfixest is called here with a formula written from the raw panel, not through channelkit, so
these tests hold both the estimates and the robust standard errors (``vcov="hetero"``, with
fixest's small-sample factor) to an independent implementation.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from channelkit.elasticity import estimate_elasticities, prepare_panel
from channelkit.elasticity.fixest import fit_pyfixest
from channelkit.errors import InputError


def scanner_panel(seed: int = 3, n_days: int = 150, level: float = 0.3, persistence: float = 0.0) -> pd.DataFrame:
    """Poisson units (many zero days at the default level) for 5 SKUs on 3 channels, with promotions,
    channel-day shocks and, with ``persistence`` > 0, AR(1) demand shocks of each series."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-03-01", periods=n_days)
    shock = {c: rng.normal(0, 0.25, n_days) for c in ("tmall", "jd", "douyin")}
    rows = []
    for s in range(5):
        for c in ("tmall", "jd", "douyin"):
            lp = np.log(40) + 0.12 * np.cumsum(rng.normal(0, 0.05, n_days)) + rng.normal(0, 0.08, n_days)
            if persistence:  # prices held for 10 days at a time, as shelf prices are
                lp = np.log(40) + np.repeat(rng.normal(0, 0.1, n_days // 10 + 1), 10)[:n_days]
            promo = (rng.random(n_days) < 0.15).astype(float)
            ar = np.zeros(n_days)
            for t in range(1, n_days):
                ar[t] = persistence * ar[t - 1] + (0.3 * rng.normal() if persistence else 0.0)
            lam = np.exp(level + ar + 0.2 * s - (0.9 + 0.25 * s) * (lp - np.log(40)) + 0.5 * promo + shock[c]
                         + 0.4 * np.arange(n_days) / 365)
            rows.append(pd.DataFrame({"date": dates, "sku": f"S{s}", "channel": c, "units": rng.poisson(lam),
                                      "price": np.exp(lp), "promo": promo}))
    df = pd.concat(rows, ignore_index=True)
    days = (df["date"] - df["date"].min()).dt.days
    return df.assign(logp=np.log(df["price"]), series=df["sku"] + "|" + df["channel"],
                     trend=(days - days.max() / 2) / 365.25, day=df["date"].dt.strftime("%Y%m%d"))


def reference(df: pd.DataFrame, fml: str, estimator=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (estimator or pf.fepois)(fml, data=df, vcov="hetero")


def pick(fit, prefix: str, names) -> tuple[np.ndarray, np.ndarray]:
    keys = [f"{prefix}::{n}:logp" for n in names]
    return fit.coef()[keys].to_numpy(), fit.se()[keys].to_numpy()


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return scanner_panel()


@pytest.fixture(scope="module")
def sample_panel(sample_dataset) -> pd.DataFrame:
    from channelkit.data import daily_sales

    return daily_sales(sample_dataset).merge(sample_dataset.products[["sku", "category"]], on="sku")


def test_ppml_per_series_with_controls_equals_pyfixest(panel: pd.DataFrame) -> None:
    ours = estimate_elasticities(panel, controls=["promo"], time_by=["channel"])
    ref = reference(panel, "units ~ i(series, logp) + i(series, trend) + promo | series + channel^day")
    est, se = pick(ref, "series", ours["sku"] + "|" + ours["channel"])
    assert ours["status"].eq("ok").all()
    np.testing.assert_allclose(ours["elasticity"], est, atol=1e-6)
    np.testing.assert_allclose(ours["se"], se, rtol=1e-5)


def test_short_panels_eliminate_the_period_side_and_still_equal_pyfixest() -> None:
    # 9 periods and 5 series of 2 terms each per stratum: the T x T Schur complement is the smaller side
    df = scanner_panel(seed=8, n_days=9, level=2.0)
    ours = estimate_elasticities(df, time_by=["channel"], min_obs=5, min_positive=3)
    ref = reference(df, "units ~ i(series, logp) + i(series, trend) | series + channel^day")
    est, se = pick(ref, "series", ours["sku"] + "|" + ours["channel"])
    np.testing.assert_allclose(ours["elasticity"], est, atol=1e-6)
    np.testing.assert_allclose(ours["se"], se, rtol=1e-5)


def test_pooled_by_sku_equals_pyfixest(panel: pd.DataFrame) -> None:
    ours = estimate_elasticities(panel, by=("sku",), time_by=["channel"])
    ref = reference(panel, "units ~ i(sku, logp) + i(series, trend) | series + channel^day")
    est, se = pick(ref, "sku", ours["sku"])
    np.testing.assert_allclose(ours["elasticity"], est, atol=1e-6)
    np.testing.assert_allclose(ours["se"], se, rtol=1e-5)


def test_log_ols_on_selling_days_equals_pyfixest_feols(panel: pd.DataFrame) -> None:
    ours = estimate_elasticities(panel, method="ols", time_by=["channel"], trend=False)
    selling = panel[panel["units"] > 0].assign(log_units=lambda d: np.log(d["units"]))
    ref = reference(selling, "log_units ~ i(series, logp) | series + channel^day", pf.feols)
    est, se = pick(ref, "series", ours["sku"] + "|" + ours["channel"])
    np.testing.assert_allclose(ours["elasticity"], est, atol=1e-6)
    np.testing.assert_allclose(ours["se"], se, rtol=1e-5)


def test_newey_west_errors_equal_pyfixest_and_widen_under_persistent_shocks() -> None:
    df = scanner_panel(seed=5, level=2.0, persistence=0.8)  # no zero days: no cells are separated
    ours = estimate_elasticities(df, time_by=["channel"], vcov="nw", nw_lag=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.fepois("units ~ i(series, logp) + i(series, trend) | series + channel^day", data=df.assign(
            period=(df["date"] - df["date"].min()).dt.days, sid=pd.factorize(df["series"])[0]), vcov="NW",
            vcov_kwargs={"lag": 4, "time_id": "period", "panel_id": "sid"})
    est, se = pick(ref, "series", ours["sku"] + "|" + ours["channel"])
    np.testing.assert_allclose(ours["elasticity"], est, atol=1e-6)
    np.testing.assert_allclose(ours["se"], se, rtol=1e-5)
    hetero = estimate_elasticities(df, time_by=["channel"])
    assert (ours["se"] / hetero["se"]).median() > 1.3  # the robust-only errors understate persistent noise
    lib = estimate_elasticities(df, time_by=["channel"], vcov="nw", nw_lag=4, engine="pyfixest")
    np.testing.assert_allclose(lib["se"], ours["se"], rtol=1e-5)


def test_pyfixest_engine_matches_the_default_on_the_sample(sample_panel: pd.DataFrame) -> None:
    """Real gaps and zero days, category strata: the library route gives the default's numbers."""
    cat = sorted(sample_panel["category"].unique())[0]
    part = sample_panel[sample_panel["category"] == cat]
    ours = estimate_elasticities(part)
    lib = estimate_elasticities(part, engine="pyfixest")
    assert (lib["status"] == ours["status"]).all() and ours["status"].eq("ok").sum() >= 20
    np.testing.assert_allclose(lib["elasticity"], ours["elasticity"], atol=1e-6)
    # pyfixest drops a handful of separated zero cells and collinear trends, which moves its
    # small-sample factor by parts in 1e5
    np.testing.assert_allclose(lib["se"], ours["se"], rtol=1e-4)
    assert lib["method"].eq("ppml (pyfixest)").all()


def test_pyfixest_engine_refuses_designs_too_large(panel: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="use the default engine"):
        fit_pyfixest(prepare_panel(panel), max_gb=1e-6)
    with pytest.raises(InputError, match="engine"):
        estimate_elasticities(panel, engine="fixest")
    with pytest.raises(InputError, match="nw_lag"):
        estimate_elasticities(panel, vcov="nw", nw_lag=0)


def test_huge_strata_fall_back_to_the_first_order_errors_with_a_warning(panel, monkeypatch) -> None:
    from channelkit.elasticity import covariance

    exact = estimate_elasticities(panel, time_by=["channel"])
    monkeypatch.setattr(covariance, "MAX_BLOCK", 3)  # each channel stratum has 5 series
    with pytest.warns(UserWarning, match="first-order"):
        approx = estimate_elasticities(panel, time_by=["channel"])
    np.testing.assert_allclose(approx["elasticity"], exact["elasticity"])
    ratio = approx["se"] / exact["se"]
    assert ratio.between(0.8, 1.2).all() and not np.allclose(ratio, 1.0, rtol=1e-6)
