"""Customer lifetime value: BG/NBD (who is alive, how often they buy) and Gamma-Gamma (how much).

Both models are fitted by maximum likelihood with scipy, as the papers and the reference
implementation ``lifetimes`` (``BetaGeoFitter``, ``GammaGammaFitter``) do. Why not a library:
the maintained option, PyMC-Marketing, depends on pytensor, which pulls ``cons`` (LGPL-3.0;
channelkit's runtime dependencies must be MIT/BSD/Apache) and compiles a graph on first use;
``lifetimes`` is archived. The likelihoods are closed-form and short, so they are written out
here. On CDNOW the fit reproduces the published MLE of Fader, Hardie & Lee (2005), r=0.243,
alpha=4.414, a=0.793, b=2.426 (log-likelihood -9582.4), of Fader & Hardie (2013) for
Gamma-Gamma, p=6.25, q=3.74, v=15.44, and lifetimes' fits (``tests/test_customers_clv.py``).

Fitting: the log-likelihood is maximised over log-parameters (so they stay positive) by
L-BFGS-B with its analytic gradient from all ones (Nelder-Mead first if that stalls);
identical customer rows are grouped and weighted by their count (the sufficient statistics, as
lifetimes' ``weights``), and terms of a single column (``lnΓ(r+x)``, ``ln(α+T)``) are evaluated
once per distinct value, which keeps a fit on millions of customers to seconds with the same
numbers. Time is rescaled so the
longest ``T`` is 1 (as lifetimes) and spend to mean 1: alpha and v are scale parameters, so the
MLE is unchanged, only better conditioned. The optional L2 ``penalizer`` (default 0: plain MLE)
adds ``penalizer * sum(params ** 2)`` to the mean negative log-likelihood on lifetimes' scales
(alpha in rescaled time, v in money), so it matches lifetimes' ``penalizer_coef``.

Conventions (the published ones, as in lifetimes):

- ``frequency`` = number of *repeat purchase days*: purchases are grouped by calendar day, the
  first day is not counted, so several orders on one day are one transaction;
- ``recency`` = time from the first to the last purchase day, ``T`` = time from the first
  purchase day to ``as_of``, both in ``time_unit`` (``"D"`` days, or ``"W"`` weeks = days / 7);
- ``monetary_value`` = mean spend per repeat purchase day (the first day excluded; 0 for
  customers without repeats), the Gamma-Gamma input. Gamma-Gamma is fitted on customers with at
  least one repeat day and a positive mean spend; it assumes spend is independent of frequency,
  so :func:`clv_params` reports their correlation among repeaters to check that;
- CLV over ``horizon_months`` months with a *monthly* discount rate ``discount_rate``:
  ``CLV = sum_{i=1..H} spend * (E[X(i)] - E[X(i-1)]) / (1 + d)^i`` where ``E[X(t)]`` is BG/NBD's
  expected purchases in the next ``t`` months (a month is 30 days or 4.345 weeks) and ``spend``
  the Gamma-Gamma expected spend per purchase (lifetimes' ``customer_lifetime_value``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult, minimize
from scipy.special import expit, hyp2f1

from channelkit.customers._validate import DAY_NS, prepare, require_columns
from channelkit.customers.likelihood import (
    Coded,
    bgnbd_gradient,
    gamma_gamma_gradient,
    bgnbd_log_likelihood,
    gamma_gamma_log_likelihood,
)
from channelkit.errors import InputError

TimeUnit = Literal["D", "W"]
_DAYS_PER_UNIT = {"D": 1, "W": 7}
_UNITS_PER_MONTH = {"D": 30.0, "W": 4.345}  # lifetimes' month
BGNBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "v")


def _check_time_unit(time_unit: str) -> None:
    if time_unit not in _DAYS_PER_UNIT:
        raise InputError(f"`time_unit` must be 'D' (days) or 'W' (weeks), but got {time_unit!r}")


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    as_of: object = None,
    time_unit: TimeUnit = "D",
    period: TimeUnit = "D",
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "revenue",
) -> pd.DataFrame:
    """The BG/NBD input per customer: ``customer_id, frequency, recency, T, monetary_value``.

    Only purchases up to ``as_of`` (inclusive, by day; default the last purchase) are used.
    Purchases are summed per calendar day (lifetimes' ``summary_data_from_transaction_data``);
    ``recency`` and ``T`` are in days, divided by 7 when ``time_unit="W"`` (lifetimes'
    ``freq="D", freq_multiplier=7``, the published CDNOW convention). ``period="W"`` sums per
    calendar week instead (Monday to Sunday, lifetimes' ``freq="W"``): whole weeks between the
    first, the last and ``as_of``'s week; it needs ``time_unit="W"``. (lifetimes also counts
    purchases later in ``as_of``'s week; here none after ``as_of`` is used: pick a Sunday to match.)
    """
    _check_time_unit(time_unit)
    if period not in ("D", "W") or (period == "W" and time_unit != "W"):
        raise InputError(f"`period` must be 'D', or 'W' with time_unit='W', but got period={period!r}, "
                         f"time_unit={time_unit!r}")
    tx = prepare(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col, as_of=as_of)
    end = tx.as_of.normalize().value // DAY_NS
    # Spend per (customer, day), on integer codes ordered like the ids (compensated sums, row order).
    days = tx.days
    if period == "W":  # day 0 (1970-01-01) is a Thursday: week numbers that start on Mondays
        days, end = (days + 3) // 7, (end + 3) // 7
    lo, span = int(days.min()), int(days.max() - days.min()) + 1
    # One int64 key (customer, day) groups faster than two keys; the sums are the same.
    daily = pd.Series(tx.amount).groupby(tx.codes * span + (days - lo), sort=True).sum()
    cust, day = np.divmod(daily.index.to_numpy(), span)
    day = day + lo
    first = np.r_[True, cust[1:] != cust[:-1]]  # the first purchase day is not a repeat
    n_days = np.bincount(cust, minlength=len(tx.ids))
    first_day, last_day = day[first], day[np.r_[first[1:], True]]
    monetary = np.zeros(len(tx.ids))
    means = pd.Series(daily.to_numpy()[~first]).groupby(cust[~first], sort=True).mean()
    monetary[means.index.to_numpy()] = means.to_numpy()
    scale = 1 if period == "W" else _DAYS_PER_UNIT[time_unit]
    return pd.DataFrame({
        "customer_id": tx.ids,
        "frequency": (n_days - 1).astype(int),
        "recency": (last_day - first_day) / scale,
        "T": (end - first_day) / scale,
        "monetary_value": monetary,
    })


@dataclass
class CLVFit:
    """A fitted BG/NBD and Gamma-Gamma pair, with their parameters in plain floats.

    ``bgnbd`` and ``gamma_gamma`` are the scipy optimisation results (log-parameters of the
    rescaled problem, mean negative log-likelihood, convergence flags), kept for inspection.
    """

    bgnbd: Any
    gamma_gamma: Any
    time_unit: TimeUnit
    bgnbd_params: dict[str, float]
    gamma_gamma_params: dict[str, float]
    diagnostics: dict[str, float] = field(default_factory=dict)


def _check_summary(summary: pd.DataFrame) -> pd.DataFrame:
    require_columns(summary, ["customer_id", "frequency", "recency", "T", "monetary_value"], name="summary")
    data = summary[["customer_id", "frequency", "recency", "T", "monetary_value"]].copy()
    ids = data["customer_id"]
    # rfm_summary returns sorted ids: then neighbours suffice (no hashing of millions of strings).
    if not (ids.is_monotonic_increasing and (ids.to_numpy()[1:] != ids.to_numpy()[:-1]).all()) \
            and ids.duplicated().any():
        dup = ids.loc[ids.duplicated()]
        raise InputError(f"`summary` must have one row per customer_id, but these repeat: {list(dup.unique()[:5])}")
    bad = data.loc[(data["recency"] > data["T"] + 1e-9) | (data["recency"] < 0) | (data["frequency"] < 0)]
    if len(bad):
        raise InputError(
            "`summary` must satisfy 0 <= recency <= T and frequency >= 0, but customer(s) "
            f"{list(bad['customer_id'][:5])} do not"
        )
    return data


def _grouped(columns: dict[str, np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Identical rows once each, with their counts as weights (the likelihood is a weighted sum)."""
    counts = pd.DataFrame(columns).value_counts(sort=False).reset_index(name="weight")
    return [counts[c].to_numpy(float) for c in columns], counts["weight"].to_numpy(float)


def _maximise(loglik: Callable, gradient: Callable, data: list[np.ndarray], weights: np.ndarray,
              penalizer: float, penalty_units: np.ndarray) -> OptimizeResult:
    """MLE over log-parameters: L-BFGS-B with the analytic gradient from all ones (lifetimes runs
    BFGS with autograd); if that stalls, Nelder-Mead from all ones, then L-BFGS-B again.

    Objective: mean negative log-likelihood plus ``penalizer * sum((params * penalty_units) ** 2)``
    (``penalty_units`` undo the rescaling where lifetimes penalizes the unscaled value).
    """
    total = weights.sum()

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(np.clip(log_params, -30, 30))
        penalty = penalizer * (params * penalty_units) ** 2  # d/dlog(theta) of c theta^2 is 2 c theta^2
        with np.errstate(all="ignore"):
            value = -(weights * loglik(params, *data)).sum() / total + penalty.sum()
            grad = -(weights @ gradient(params, *data)) / total * params + 2 * penalty
        if not (np.isfinite(value) and np.isfinite(grad).all()):
            return np.inf, np.zeros_like(params)
        return float(value), grad

    def polish(start: np.ndarray) -> OptimizeResult:
        return minimize(objective, start, jac=True, method="L-BFGS-B",
                        options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 2000})

    start = np.zeros(len(penalty_units))
    result = polish(start)
    if not (np.isfinite(result.fun) and np.abs(result.jac).max() < 1e-6):
        coarse = minimize(lambda z: objective(z)[0], start, method="Nelder-Mead",
                          options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 20000, "maxfev": 20000})
        result = min([result, polish(coarse.x)], key=lambda res: res.fun)
    return result


def _checked(result: OptimizeResult, names: tuple[str, ...], what: str,
             rescale: dict[str, float]) -> dict[str, float]:
    values = {k: float(np.exp(z) * rescale.get(k, 1.0)) for k, z in zip(names, result.x)}
    if not (np.isfinite(result.fun) and all(np.isfinite(v) and 0 < v < 1e12 for v in values.values())):
        raise InputError(f"the {what} fit did not converge (parameters {values}); check the purchase history")
    return values


def _require_mean_spend(params: dict[str, float]) -> dict[str, float]:
    """Gamma-Gamma's mean spend ``p v / (q - 1)`` exists only for ``q > 1``; refuse the fit otherwise."""
    if params["q"] <= 1:
        raise InputError(f"the Gamma-Gamma fit gave q = {params['q']:.3g} <= 1, so mean spend is undefined: "
                         "spend per purchase is too heavy-tailed for this model (check for outlier orders)")
    return params


def _fit_bgnbd(data: pd.DataFrame, penalizer: float) -> tuple[OptimizeResult, dict[str, float], float]:
    """BG/NBD on every customer; time rescaled so max T = 1 as lifetimes (alpha scales with time)."""
    x, t_x, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    scale = 1.0 / T.max() if T.max() > 0 else 1.0
    cols, weights = _grouped({"x": x, "t_x": t_x * scale, "T": T * scale})
    # Millions of customers share few distinct x, t_x and T: per-value terms are computed once.
    cols = [Coded.of(c) for c in cols]
    result = _maximise(bgnbd_log_likelihood, bgnbd_gradient, cols, weights, penalizer, np.ones(4))
    params = _checked(result, BGNBD_PARAMS, "BG/NBD", {"alpha": 1 / scale})
    return result, params, float(bgnbd_log_likelihood(tuple(params.values()), x, t_x, T).sum())


def _fit_gamma_gamma(repeaters: pd.DataFrame, penalizer: float) -> tuple[OptimizeResult, dict[str, float], float]:
    """Gamma-Gamma on repeaters; spend rescaled to mean 1 (v scales with money)."""
    x, m = repeaters["frequency"].to_numpy(float), repeaters["monetary_value"].to_numpy(float)
    scale = 1.0 / float(m.mean())
    cols, weights = _grouped({"x": x, "m": m * scale})
    cols = [Coded.of(cols[0]), np.asarray(cols[1])]
    units = np.array([1.0, 1.0, 1 / scale])  # lifetimes penalizes v in money units
    result = _maximise(gamma_gamma_log_likelihood, gamma_gamma_gradient, cols, weights, penalizer, units)
    params = _require_mean_spend(_checked(result, GAMMA_GAMMA_PARAMS, "Gamma-Gamma", {"v": 1 / scale}))
    return result, params, float(gamma_gamma_log_likelihood(tuple(params.values()), x, m).sum())


def fit_clv(summary: pd.DataFrame, *, time_unit: TimeUnit = "D", penalizer: float = 0.0) -> CLVFit:
    """Fit BG/NBD on every customer and Gamma-Gamma on repeaters with positive spend (MLE).

    ``summary`` comes from :func:`rfm_summary`; ``time_unit`` states the unit of its ``recency``
    and ``T`` (it sets how many units make a month for CLV); ``penalizer`` is lifetimes' L2
    ``penalizer_coef`` (default 0: plain maximum likelihood). Raises :class:`InputError` when
    there are fewer than 2 customers with a repeat purchase (neither model is identified).
    """
    _check_time_unit(time_unit)
    if not (isinstance(penalizer, (int, float)) and np.isfinite(penalizer) and penalizer >= 0):
        raise InputError(f"`penalizer` must be a finite number >= 0, but got {penalizer!r}")
    data = _check_summary(summary)
    repeaters = data.loc[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    if len(repeaters) < 2:
        raise InputError(
            f"CLV needs customers who came back: {len(repeaters)} of {len(data)} customers have a repeat "
            "purchase day with positive spend (at least 2 are needed). Use a longer history"
        )
    bg_result, bg_params, bg_ll = _fit_bgnbd(data, float(penalizer))
    gg_result, gg_params, gg_ll = _fit_gamma_gamma(repeaters, float(penalizer))
    corr = float(np.corrcoef(repeaters["frequency"], repeaters["monetary_value"])[0, 1]) \
        if repeaters["frequency"].nunique() > 1 and repeaters["monetary_value"].nunique() > 1 else float("nan")
    return CLVFit(
        bgnbd=bg_result,
        gamma_gamma=gg_result,
        time_unit=time_unit,
        bgnbd_params=bg_params,
        gamma_gamma_params=gg_params,
        diagnostics={
            "customers": int(len(data)),
            "repeat_customers": int(len(repeaters)),
            "spend_frequency_correlation": corr,
            "bgnbd_log_likelihood": bg_ll,
            "gamma_gamma_log_likelihood": gg_ll,
        },
    )


def probability_alive(params: dict[str, float], x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a / (b+x-1) ((α+T) / (α+t_x))^(r+x)) (Fader et al. 2008)."""
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMS)
    log_odds = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(x > 0, expit(-log_odds), 1.0)


def expected_purchases(params: dict[str, float], t: float, x, t_x, T) -> np.ndarray:
    """E[X(t) | x, t_x, T], the expected repeat purchases in the next ``t`` (FHL 2005, eq. 10).

    ``(a+b+x-1)/(a-1) * [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(α+T+t))] * P(alive)``;
    when 2F1 overflows, Euler's transformation is used instead (as lifetimes does).
    """
    return _purchases_if_alive(params, t, x, T) * probability_alive(params, x, t_x, T)


def _purchases_if_alive(params: dict[str, float], t: float, x, T) -> np.ndarray:
    """The factor of :func:`expected_purchases` before P(alive); it depends on (x, T) only."""
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMS)
    hyp_a, hyp_b, hyp_c, z = r + x, b + x, a + b + x - 1, t / (alpha + T + t)
    with np.errstate(divide="ignore", over="ignore"):
        log_hyp = np.log(hyp2f1(hyp_a, hyp_b, hyp_c, z))
        euler = np.log(hyp2f1(hyp_c - hyp_a, hyp_c - hyp_b, hyp_c, z)) + (hyp_c - hyp_a - hyp_b) * np.log1p(-z)
    log_hyp = np.where(np.isinf(log_hyp), euler, log_hyp)
    body = 1 - np.exp(log_hyp + (r + x) * np.log((alpha + T) / (alpha + T + t)))
    return (a + b + x - 1) / (a - 1) * body


def expected_spend(params: dict[str, float], x, m) -> np.ndarray:
    """Gamma-Gamma E[spend | x, m] = (q-1)/(px+q-1) * pv/(q-1) + px/(px+q-1) * m (FH 2013, eq. 5)."""
    p, q, v = (params[k] for k in GAMMA_GAMMA_PARAMS)
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * p * v / (q - 1) + weight * m


def predict_clv(
    fit: CLVFit,
    summary: pd.DataFrame,
    *,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
) -> pd.DataFrame:
    """Per customer: ``customer_id, frequency, recency, T, monetary, p_alive, expected_purchases,
    expected_spend, clv``.

    ``p_alive`` is BG/NBD's probability the customer is still active at ``T`` (1 for customers
    without repeats, by the model's definition); ``expected_purchases`` the expected repeat
    purchase days in the next ``horizon_months`` months; ``expected_spend`` Gamma-Gamma's expected
    spend per purchase (the population mean for customers without repeats); ``clv`` the
    discounted value over ``horizon_months`` months at monthly ``discount_rate`` (default 1 %,
    about 12.7 % a year), as lifetimes' ``customer_lifetime_value``. ``monetary`` is the observed
    mean spend per repeat purchase day.
    """
    if not isinstance(horizon_months, (int, np.integer)) or horizon_months < 1:
        raise InputError(f"`horizon_months` must be a positive whole number of months, but got {horizon_months!r}")
    if not 0 <= discount_rate < 1:
        raise InputError(f"`discount_rate` must satisfy 0 <= discount_rate < 1 (monthly), but got {discount_rate!r}")
    data = _check_summary(summary).reset_index(drop=True)
    x, t_x, T, m = (data[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value"))
    # The hypergeometric part of E[X(t)] (the costly part) depends on (x, T) only, which
    # millions of customers share: evaluate it once per distinct pair and gather (exact).
    rows, pairs = pd.MultiIndex.from_arrays([x, T]).factorize()
    ux, uT = (pairs.get_level_values(i).to_numpy(float) for i in range(2))
    month = _UNITS_PER_MONTH[fit.time_unit]
    bg = fit.bgnbd_params
    alive = probability_alive(bg, x, t_x, T)
    cumulative = [_purchases_if_alive(bg, i * month, ux, uT)[rows] * alive if i else np.zeros_like(x)
                  for i in range(horizon_months + 1)]
    spend = expected_spend(fit.gamma_gamma_params, x, m)
    clv = sum(spend * (cumulative[i] - cumulative[i - 1]) / (1 + discount_rate) ** i
              for i in range(1, horizon_months + 1))
    return pd.DataFrame({
        "customer_id": data["customer_id"].astype(str),
        "frequency": data["frequency"].astype(int),
        "recency": data["recency"].astype(float),
        "T": data["T"].astype(float),
        "monetary": data["monetary_value"].astype(float),
        "p_alive": alive,
        "expected_purchases": cumulative[horizon_months],
        "expected_spend": spend,
        "clv": clv,
    })


def clv_params(fit: CLVFit, *, horizon_months: int | None = None, discount_rate: float | None = None) -> dict:
    """The fitted parameters as ``{"bgnbd": {r, alpha, a, b, time_unit}, "gamma_gamma": {p, q, v}}``.

    Also ``diagnostics`` (customers, repeat customers, spend-frequency correlation, each model's
    log-likelihood at the fitted parameters, without penalty) and, when
    given, the ``clv`` settings (horizon in months, monthly discount rate).
    """
    out: dict[str, Any] = {
        "bgnbd": {**fit.bgnbd_params, "time_unit": fit.time_unit},
        "gamma_gamma": dict(fit.gamma_gamma_params),
        "diagnostics": dict(fit.diagnostics),
    }
    if horizon_months is not None:
        out["clv"] = {"horizon_months": int(horizon_months), "discount_rate": float(discount_rate or 0.0),
                      "discount_rate_period": "month"}
    return out


def customer_lifetime_values(
    transactions: pd.DataFrame,
    *,
    as_of: object = None,
    time_unit: TimeUnit = "D",
    period: TimeUnit = "D",
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "revenue",
) -> tuple[pd.DataFrame, dict]:
    """Summary, fit and prediction in one call: returns (per-customer frame, params dict).

    ``period="W"`` (with ``time_unit="W"``) counts calendar weeks, not days, as purchases.

    See :func:`rfm_summary`, :func:`fit_clv`, :func:`predict_clv` and :func:`clv_params`.
    """
    summary = rfm_summary(transactions, as_of=as_of, time_unit=time_unit, period=period,
                          customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    fit = fit_clv(summary, time_unit=time_unit)
    values = predict_clv(fit, summary, horizon_months=horizon_months, discount_rate=discount_rate)
    return values, clv_params(fit, horizon_months=horizon_months, discount_rate=discount_rate)
