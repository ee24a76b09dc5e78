"""BG/NBD + Gamma-Gamma: agreement with the published MLE and an independent likelihood fit.

Data: the CDNOW sample (2,357 customers, Fader, Hardie & Lee 2005) as shipped inside the
``lifetimes`` package (MIT), copied to ``tests/data``: the published calibration summary
(``customers_cdnow_summary.csv``: ID, x, t_x, T in weeks, zbar) and the raw transactions
(``customers_cdnow_transactions.txt``: master id, id, YYYYMMDD, CDs, dollars).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime, minimize
from scipy.special import betaln, gammaln, hyp2f1

from channelkit.customers.clv import (
    bgnbd_gradient,
    gamma_gamma_gradient,
    _require_mean_spend,
    clv_params,
    fit_clv,
    predict_clv,
    rfm_summary,
)
from channelkit.errors import InputError

DATA = Path(__file__).parent / "data"
# Published MLE: Fader, Hardie & Lee (2005), Marketing Science 24(2), p. 279; Fader & Hardie (2013),
# "The Gamma-Gamma model of monetary value", p. 4. lifetimes' fitters give the same to 3 decimals.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def cdnow_summary() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "customers_cdnow_summary.csv")
    return frame.rename(columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


def cdnow_transactions() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "customers_cdnow_transactions.txt", sep=r"\s+", header=None,
                        names=["master_id", "customer_id", "date", "cds", "amount"], dtype={"date": str})
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def bgnbd_loglik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    """FHL (2005) eq. 6, written out independently of channelkit's A1..A4 form."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    first = common + betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    second = np.where(x > 0, common + betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - betaln(a, b)
                      - (r + x) * np.log(alpha + t_x), -np.inf)
    return float(np.logaddexp(first, second).sum())


def gamma_gamma_loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    """Fader & Hardie (2013) eq. 3: density of the mean spend m of x transactions."""
    p, q, v = params
    return float((gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v) + (p * x - 1) * np.log(m)
                  + p * x * np.log(x) - (p * x + q) * np.log(v + x * m)).sum())


def reference_mle(loglik, start: np.ndarray, *data: np.ndarray) -> np.ndarray:
    result = minimize(lambda z: -loglik(np.exp(z), *data), np.log(start), method="Nelder-Mead",
                      options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 20000, "maxfev": 20000})
    return np.exp(result.x)


@pytest.fixture(scope="module")
def cdnow_fit():
    summary = cdnow_summary()
    return summary, fit_clv(summary, time_unit="W")


def test_bgnbd_matches_published_mle_and_independent_fit(cdnow_fit):
    summary, fit = cdnow_fit
    for name, value in PUBLISHED_BGNBD.items():
        assert fit.bgnbd_params[name] == pytest.approx(value, abs=6e-4), name
    ref = reference_mle(bgnbd_loglik, np.ones(4), summary["frequency"].to_numpy(float),
                        summary["recency"].to_numpy(float), summary["T"].to_numpy(float))
    got = np.array([fit.bgnbd_params[k] for k in ("r", "alpha", "a", "b")])
    np.testing.assert_allclose(got, ref, rtol=2e-3)
    # The log-likelihood at the published optimum (FHL 2005: -9582.4).
    assert bgnbd_loglik(got, summary["frequency"].to_numpy(float), summary["recency"].to_numpy(float),
                        summary["T"].to_numpy(float)) == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_matches_published_mle_and_independent_fit(cdnow_fit):
    summary, fit = cdnow_fit
    for name, value in PUBLISHED_GG.items():
        assert fit.gamma_gamma_params[name] == pytest.approx(value, abs=0.01), name
    rep = summary.loc[summary["frequency"] > 0]
    ref = reference_mle(gamma_gamma_loglik, np.ones(3), rep["frequency"].to_numpy(float),
                        rep["monetary_value"].to_numpy(float))
    got = np.array([fit.gamma_gamma_params[k] for k in ("p", "q", "v")])
    np.testing.assert_allclose(got, ref, rtol=2e-3)
    assert fit.diagnostics["repeat_customers"] == 946


def test_analytic_gradients_match_finite_differences():
    """The optimiser's gradients against central differences of the independent likelihoods above,
    away from the optimum (where a wrong gradient would still stop the search early)."""
    summary = cdnow_summary()
    x, t_x, T, m = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value"))
    t_x = np.minimum(t_x, T)
    bg = np.array([1.3, 0.2, 3.0, 0.5])
    numeric = approx_fprime(bg, lambda z: bgnbd_loglik(z, x, t_x, T), 1e-7)
    np.testing.assert_allclose(bgnbd_gradient(bg, x, t_x, T).sum(axis=0), numeric, rtol=1e-4)
    gg, rep = np.array([1.0, 9.0, 2.0]), x > 0
    numeric = approx_fprime(gg, lambda z: gamma_gamma_loglik(z, x[rep], m[rep]), 1e-7)
    np.testing.assert_allclose(gamma_gamma_gradient(gg, x[rep], m[rep]).sum(axis=0), numeric, rtol=1e-4)


def test_penalized_fit_matches_lifetimes_penalizer_coef():
    """With an L2 penalizer the fit matches lifetimes 0.11.3 (``penalizer_coef=0.001``, values recorded
    from ``BetaGeoFitter`` and ``GammaGammaFitter`` on this CDNOW summary with recency clipped to T);
    the penalty pulls a and b far from the MLE, so this checks where it is applied."""
    summary = cdnow_summary().assign(recency=lambda f: np.minimum(f["recency"], f["T"]))
    fit = fit_clv(summary, time_unit="W", penalizer=0.001)
    lifetimes_bg = {"r": 0.2427763, "alpha": 4.4052781, "a": 0.4984465, "b": 1.3232442}
    lifetimes_gg = {"p": 7.9120250, "q": 2.4468194, "v": 7.2095643}
    for name, value in {**lifetimes_bg, **lifetimes_gg}.items():
        got = {**fit.bgnbd_params, **fit.gamma_gamma_params}[name]
        assert got == pytest.approx(value, rel=1e-4), name
    with pytest.raises(InputError, match="`penalizer` must be a finite number >= 0, but got -1"):
        fit_clv(summary, time_unit="W", penalizer=-1)


def test_predictions_match_closed_forms(cdnow_fit):
    summary, fit = cdnow_fit
    pred = predict_clv(fit, summary, horizon_months=12, discount_rate=0.01)
    assert list(pred.columns) == ["customer_id", "frequency", "recency", "T", "monetary", "p_alive",
                                  "expected_purchases", "expected_spend", "clv"]
    r, alpha, a, b = (fit.bgnbd_params[k] for k in ("r", "alpha", "a", "b"))
    p, q, v = (fit.gamma_gamma_params[k] for k in ("p", "q", "v"))
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    m = summary["monetary_value"].to_numpy(float)
    odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    np.testing.assert_allclose(pred["p_alive"], 1 / (1 + odds), rtol=1e-9)

    def expected(t: float) -> np.ndarray:  # FHL (2005) eq. 10
        body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        return (a + b + x - 1) / (a - 1) * body / (1 + odds)

    np.testing.assert_allclose(pred["expected_purchases"], expected(12 * 4.345), rtol=1e-9)
    spend = (q - 1) / (p * x + q - 1) * v * p / (q - 1) + p * x / (p * x + q - 1) * m
    np.testing.assert_allclose(pred["expected_spend"], spend, rtol=1e-9)
    clv = sum(spend * (expected(i * 4.345) - expected((i - 1) * 4.345)) / 1.01 ** i for i in range(1, 13))
    np.testing.assert_allclose(pred["clv"], clv, rtol=1e-9)
    params = clv_params(fit, horizon_months=12, discount_rate=0.01)
    assert set(params["bgnbd"]) == {"r", "alpha", "a", "b", "time_unit"} and params["bgnbd"]["time_unit"] == "W"
    assert set(params["gamma_gamma"]) == {"p", "q", "v"}


def test_rfm_summary_reproduces_published_cdnow_summary():
    """Raw CDNOW purchases to 1997-09-30, in weeks, give the published x, t_x, T and zbar."""
    summary = rfm_summary(cdnow_transactions(), as_of="1997-09-30", time_unit="W", date_col="date",
                          amount_col="amount")
    published = cdnow_summary()
    merged = summary.assign(customer_id=summary["customer_id"].astype(int)).merge(
        published, on="customer_id", suffixes=("", "_pub"))
    assert len(merged) == len(published) == 2357
    assert (merged["frequency"] == merged["frequency_pub"]).all()
    np.testing.assert_allclose(merged["recency"], merged["recency_pub"], atol=0.005)
    np.testing.assert_allclose(merged["T"], merged["T_pub"], atol=0.005)
    np.testing.assert_allclose(merged["monetary_value"], merged["monetary_value_pub"], atol=0.005)


def test_rfm_summary_counts_repeat_days_and_respects_as_of():
    tx = pd.DataFrame({
        "customer_id": ["A", "A", "A", "A", "B", "C"],
        "order_ts": pd.to_datetime(["2025-01-01 09:00", "2025-01-01 18:00", "2025-01-08 10:00",
                                    "2025-01-15 12:00", "2025-01-10 00:00", "2025-02-01 00:00"]),
        "revenue": [10.0, 5.0, 30.0, 50.0, 20.0, 99.0],
    })
    days = rfm_summary(tx, as_of="2025-01-15").set_index("customer_id")
    assert "C" not in days.index  # first purchase after as_of
    assert days.loc["A", "frequency"] == 2  # two orders on Jan 1 are one purchase day
    assert days.loc["A", "recency"] == 14 and days.loc["A", "T"] == 14
    assert days.loc["A", "monetary_value"] == pytest.approx(40.0)  # mean of 30 and 50, first day excluded
    assert days.loc["B", "frequency"] == 0 and days.loc["B", "T"] == 5 and days.loc["B", "monetary_value"] == 0
    weeks = rfm_summary(tx, as_of="2025-01-14", time_unit="W").set_index("customer_id")
    assert weeks.loc["A", "frequency"] == 1  # the Jan 15 purchase is after as_of
    assert weeks.loc["A", "recency"] == pytest.approx(1.0) and weeks.loc["A", "T"] == pytest.approx(13 / 7)


def test_errors_name_the_problem():
    tx = pd.DataFrame({"customer_id": ["A", "B"], "order_ts": pd.to_datetime(["2025-01-01", "2025-01-02"]),
                       "revenue": [1.0, 2.0]})
    with pytest.raises(InputError, match="`time_unit` must be 'D'"):
        rfm_summary(tx, time_unit="M")
    with pytest.raises(InputError, match="CLV needs customers who came back: 0 of 2"):
        fit_clv(rfm_summary(tx))
    with pytest.raises(InputError, match="recency <= T"):
        fit_clv(pd.DataFrame({"customer_id": ["A"], "frequency": [1], "recency": [5.0], "T": [3.0],
                              "monetary_value": [1.0]}))
    with pytest.raises(InputError, match="column 'order_ts' must hold dates.*'soon'"):
        rfm_summary(tx.assign(order_ts=["2025-01-01", "soon"]))
    with pytest.raises(InputError, match="missing column"):
        rfm_summary(tx.drop(columns="revenue"))
    with pytest.raises(InputError, match="q = 0.8 <= 1, so mean spend is undefined"):
        _require_mean_spend({"p": 2.0, "q": 0.8, "v": 10.0})


def simulate_bgnbd(n: int, *, r: float, alpha: float, a: float, b: float, p: float, q: float, v: float,
                   seed: int) -> pd.DataFrame:
    """Customers drawn from the BG/NBD story (FHL 2005, section 2) and Gamma-Gamma spend (FH 2013).

    Purchase rate ~ Gamma(r, rate alpha), dropout ~ Beta(a, b) after each repeat purchase, windows
    T ~ U(26, 78) weeks; mean spend of x repeats ~ Gamma(p x, rate x nu) with nu ~ Gamma(q, rate v).
    """
    rng = np.random.default_rng(seed)
    lam, drop, T = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n), rng.uniform(26, 78, n)
    freq, rec = np.zeros(n, dtype=int), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            freq[i], rec[i] = freq[i] + 1, t
            if rng.random() < drop[i]:
                break
    nu = rng.gamma(q, 1 / v, n)
    spend = np.where(freq > 0, rng.gamma(np.maximum(p * freq, 1e-9), 1 / (np.maximum(freq, 1) * nu)), 0.0)
    return pd.DataFrame({"customer_id": np.arange(n).astype(str), "frequency": freq, "recency": rec, "T": T,
                         "monetary_value": spend})


def test_recovers_simulated_truth():
    """4,000 simulated customers. Across seeds the single parameters scatter by up to ~25 % (a and b,
    p and v trade off against each other), while the quantities a manager reads are tight (~7 %):
    mean purchase rate r/alpha, mean dropout a/(a+b), mean spend p v/(q-1). Tolerances: 35 % and 12 %."""
    truth = {"r": 0.5, "alpha": 8.0, "a": 0.8, "b": 2.5, "p": 6.0, "q": 4.0, "v": 15.0}
    fit = fit_clv(simulate_bgnbd(4000, seed=11, **truth), time_unit="W")
    got = {**fit.bgnbd_params, **fit.gamma_gamma_params}
    for name, value in truth.items():
        assert got[name] == pytest.approx(value, rel=0.35), name
    assert got["r"] / got["alpha"] == pytest.approx(truth["r"] / truth["alpha"], rel=0.12)
    assert got["a"] / (got["a"] + got["b"]) == pytest.approx(truth["a"] / (truth["a"] + truth["b"]), rel=0.12)
    assert got["p"] * got["v"] / (got["q"] - 1) == pytest.approx(truth["p"] * truth["v"] / (truth["q"] - 1), rel=0.12)


def test_coded_columns_give_identical_likelihoods():
    """Per-value evaluation of the single-column terms (used for millions of customers) changes no number."""
    from channelkit.customers.likelihood import Coded, bgnbd_log_likelihood, gamma_gamma_log_likelihood

    summary = cdnow_summary()
    x, t_x, T, m = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value"))
    t_x = np.minimum(t_x, T)
    coded = [Coded.of(c) for c in (x, t_x, T)]
    bg = (0.3, 4.0, 0.8, 2.5)
    np.testing.assert_array_equal(bgnbd_log_likelihood(bg, *coded), bgnbd_log_likelihood(bg, x, t_x, T))
    np.testing.assert_array_equal(bgnbd_gradient(bg, *coded), bgnbd_gradient(bg, x, t_x, T))
    rep = x > 0
    gg, cx = (6.0, 3.5, 15.0), Coded.of(x[rep])
    np.testing.assert_array_equal(gamma_gamma_log_likelihood(gg, cx, m[rep]), gamma_gamma_log_likelihood(gg, x[rep], m[rep]))
    np.testing.assert_array_equal(gamma_gamma_gradient(gg, cx, m[rep]), gamma_gamma_gradient(gg, x[rep], m[rep]))
