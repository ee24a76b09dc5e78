"""Ad spend that drives demand: the sample's media effects, with their ground truth.

Spend per paid marketing channel ``c`` and day ``d``::

    spend[c, d] = budget * share_c * season(d) * weekly[dow] * boost_c(d) * flight_c(week)
                  * exp(N(0, DAILY_SD))

``budget`` is 25 % of the expected online revenue per day before media, ``season`` follows the
online demand (7-day mean of expected online orders over its average, to the power 0.5),
``boost_c`` multiplies spend on the pre-sale and peak days of 618 and Double 11 for every channel
at once (correlated festival pushes, x1.6-2.6) and ``flight_c`` is a weekly budget decision per
channel, lognormal with log-sd ``FLIGHT_SD``; the channels that run in flights (social, KOL,
e-mail/SMS, display) spend only ``DARK_LEVEL`` of that in ``DARK_WEEK_P`` of weeks (off air but
for retargeting). These independent moves (and the daily noise, log-sd ``DAILY_SD``) are what
lets a marketing mix model tell the channels apart.

Effect of spend on revenue (additive in expected revenue, CNY)::

    x[c, d]      = sum_l w_c[l] * spend[c, d - l]          (adstock; w_c sums to 1 over MAX_LAG days)
    h[c, d]      = x^n_c / (x^n_c + K_c^n_c)               (Hill saturation)
    contrib[c,d] = beta_c * h[c, d] * reach[d]

``reach`` is 1 except on the Spring Festival courier-pause days, where ad-driven orders pause with
the organic ones (:func:`courier_reach`).

Adstock kernels: ``geometric`` ``w[l] ~ alpha**l``; ``weibull`` (delayed) ``w[l] ~`` the Weibull
density at ``l`` with ``shape`` and ``scale`` (zero at lag 0 for shape > 1: the effect peaks days
later, as a KOL video's does). ``K_c`` = ``half_sat`` times the mean of ``x`` over days with
positive ``x``. ``beta_c`` is set so that the channel's ROAS over the sample equals a drawn value
(``ROAS_TARGET`` times exp(N(0, 0.1))): social and display are not worth their spend (ROAS < 1).

The daily media revenue ``M[d] = sum_c contrib[c, d] / (1 - CANCEL_RATE)`` is added to the online
sales channels (tmall, jd, douyin_live, own_app) in proportion to their expected revenue that
day: every online series' expected units are multiplied by ``1 + M[d] / B[d]`` (``B`` the expected
online revenue before media), so expected revenue rises by exactly ``M[d]``. Order lines carry
their statuses as before, so the expected *non-cancelled* revenue (the sales panel's ``revenue +
returned_revenue``) rises by ``sum_c contrib[c, d]``: the truth's contributions and ROAS are in
those units. Journeys are untouched: they attach to online orders whatever brought them.

``truth["media"]``: {target, max_lag, channels: {channel: {adstock: {kind, alpha | shape, scale},
half_life, saturation: {kind: "hill", half_sat, half_sat_cny, slope}, beta, spend, contribution,
roas, mroas}}, total_spend, total_contribution, contribution_share, daily_contribution: {channel:
[CNY per day]}, online_multiplier: [per day, the factor on every online series' expected
units]}. ``half_life`` is in days: the
lag by which half of a yuan's effect has arrived (the kernel's median, interpolated).
``mroas`` = d contribution / d spend for a proportional change of the channel's spend:
``sum_d beta h'(x_d) x_d / sum_d spend_d`` with ``h'(x) x = n x^n K^n / (x^n + K^n)^2``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.data.calendar import festival_calendar

MAX_LAG = 28
BUDGET_SHARE = 0.25
WEEKLY = (1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.05)
FLIGHT_SD = 1.0
DAILY_SD = 0.5
DARK_WEEK_P = 0.3
DARK_LEVEL = 0.05
ROAS_SD = 0.1
# channel -> (budget share, festival boost, runs in flights)
BUDGET: dict[str, tuple[float, float, bool]] = {
    "search": (0.30, 1.8, False), "social": (0.20, 1.6, True), "kol": (0.22, 2.6, True),
    "email_sms": (0.06, 1.6, True), "affiliate": (0.12, 1.8, False), "display": (0.10, 1.6, True),
}
# channel -> (adstock kind, parameters, Hill half-saturation (x mean adstock), Hill slope, target ROAS)
EFFECT: dict[str, tuple[str, dict, float, float, float]] = {
    "search": ("geometric", {"alpha": 0.3}, 1.0, 1.0, 2.6),
    "social": ("geometric", {"alpha": 0.6}, 0.8, 1.5, 0.7),
    "kol": ("weibull", {"shape": 2.5, "scale": 5.0}, 1.2, 2.0, 1.9),
    "email_sms": ("geometric", {"alpha": 0.15}, 0.6, 1.0, 3.6),
    "affiliate": ("geometric", {"alpha": 0.4}, 1.5, 1.2, 1.3),
    "display": ("weibull", {"shape": 1.5, "scale": 7.0}, 0.7, 1.0, 0.5),
}
ONLINE = ("tmall", "jd", "douyin_live", "own_app")


def kernel(kind: str, params: dict, max_lag: int = MAX_LAG) -> np.ndarray:
    """Adstock weights over lags 0..max_lag-1, summing to 1 (see the module docstring)."""
    lags = np.arange(max_lag, dtype=float)
    if kind == "geometric":
        w = params["alpha"] ** lags
    else:
        k, lam = params["shape"], params["scale"]
        w = (k / lam) * (lags / lam) ** (k - 1) * np.exp(-((lags / lam) ** k))
    return w / w.sum()


def half_life(weights: np.ndarray) -> float:
    """The lag (in periods) by which half of the kernel's weight has arrived, linearly interpolated
    on the cumulative weights (weight of lag l arriving uniformly over [l, l + 1))."""
    cum = np.r_[0.0, np.cumsum(weights)]
    return float(np.interp(0.5, cum, np.arange(len(cum))))


def adstock(spend: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``x[d] = sum_l w[l] spend[d - l]`` (spend before the first day counts as zero)."""
    return np.convolve(spend, weights)[: len(spend)]


def _boost_days(dates: pd.DatetimeIndex) -> np.ndarray:
    cal = festival_calendar(dates[0], dates[-1])
    cal = cal[cal["event"].isin(["618", "double11"]) & (cal["phase"] != "after")]
    out = np.zeros(len(dates), dtype=bool)
    out[dates.get_indexer(cal["date"])] = True
    return out


def draw_spend(rng: np.random.Generator, dates: pd.DatetimeIndex, online_orders: np.ndarray,
               online_revenue: np.ndarray) -> tuple[dict[str, np.ndarray], float]:
    """Daily spend per channel (CNY, rounded to cents) and the daily budget, from pre-media demand."""
    budget = BUDGET_SHARE * float(online_revenue.mean())
    smooth = pd.Series(online_orders).rolling(7, center=True, min_periods=1).mean().to_numpy()
    season = (smooth / smooth.mean()) ** 0.5
    boost_day = _boost_days(dates)
    weekly = np.array(WEEKLY)[dates.dayofweek.to_numpy()]
    week = (dates - dates[0]).days.to_numpy() // 7
    spend = {}
    for ch, (share, boost, flights) in BUDGET.items():
        flight = np.exp(rng.normal(-0.5 * FLIGHT_SD ** 2, FLIGHT_SD, week.max() + 1))
        if flights:
            flight *= np.where(rng.random(week.max() + 1) < DARK_WEEK_P, DARK_LEVEL, 1.0)
        s = budget * share * season * weekly * np.where(boost_day, boost, 1.0) * flight[week]
        spend[ch] = np.round(s * np.exp(rng.normal(0.0, DAILY_SD, len(dates))), 2)
    return spend, budget


def courier_reach(dates: pd.DatetimeIndex, online_revenue: np.ndarray) -> np.ndarray:
    """Share of the media effect that can be delivered each day: 1, except on the Spring Festival
    courier-pause days, where it is that day's expected online revenue over its 29-day rolling median
    (at most 1). Couriers that do not deliver an organic order do not deliver an ad-driven one either,
    so the pause's dip stays as deep as the festival truth says."""
    cal = festival_calendar(dates[0], dates[-1])
    pause = np.zeros(len(dates), dtype=bool)
    pause[dates.get_indexer(cal.loc[cal["phase"] == "pause", "date"])] = True
    ref = pd.Series(online_revenue).rolling(29, center=True, min_periods=1).median().to_numpy()
    return np.where(pause, np.clip(online_revenue / ref, 0.0, 1.0), 1.0)


def media_effects(rng: np.random.Generator, spend: dict[str, np.ndarray],
                  reach: np.ndarray | None = None) -> tuple[np.ndarray, dict, dict]:
    """Daily contribution (non-cancelled revenue, CNY) summed over channels, the truth per channel and
    the daily contribution per channel; ``reach`` (default 1) scales each day's effect
    (:func:`courier_reach`)."""
    total = np.zeros(len(next(iter(spend.values()))))
    reach = np.ones_like(total) if reach is None else reach
    channels, daily = {}, {}
    for ch, s in spend.items():
        kind, params, k_rel, slope, target = EFFECT[ch]
        w = kernel(kind, params)
        x = adstock(s, w)
        k = k_rel * float(x[x > 0].mean())
        h = x ** slope / (x ** slope + k ** slope)
        roas = float(target * np.exp(rng.normal(0.0, ROAS_SD)))
        beta = roas * float(s.sum()) / float((h * reach).sum())
        contrib = beta * h * reach
        dh_x = reach * slope * x ** slope * k ** slope / (x ** slope + k ** slope) ** 2
        total += contrib
        daily[ch] = [round(float(v), 2) for v in contrib]
        channels[ch] = {
            "adstock": dict(kind=kind, **params), "half_life": round(half_life(w), 4),
            "saturation": {"kind": "hill", "half_sat": k_rel, "half_sat_cny": round(k, 2), "slope": slope},
            "beta": round(beta, 4), "spend": round(float(s.sum()), 2), "contribution": round(float(contrib.sum()), 2),
            "roas": round(roas, 6), "mroas": round(float(beta * dh_x.sum() / s.sum()), 6),
        }
    return total, channels, daily


def online_multiplier(contribution: np.ndarray, online_revenue: np.ndarray, cancel_rate: float) -> np.ndarray:
    """``1 + M[d] / B[d]`` with ``M = contribution / (1 - cancel_rate)`` (see the module docstring)."""
    return 1.0 + contribution / (1.0 - cancel_rate) / online_revenue


def media_truth(channels: dict, contribution: np.ndarray, revenue_after: float, daily: dict,
                multiplier: np.ndarray) -> dict:
    """``truth["media"]`` (see the module docstring)."""
    spend = sum(c["spend"] for c in channels.values())
    return {
        "target": "expected revenue of non-cancelled order lines (sales panel revenue + returned_revenue), CNY",
        "max_lag": MAX_LAG, "channels": channels, "total_spend": round(spend, 2),
        "total_contribution": round(float(contribution.sum()), 2),
        "contribution_share": round(float(contribution.sum()) / revenue_after, 6),
        "daily_contribution": daily, "online_multiplier": [round(float(m), 6) for m in multiplier],
    }


def apply_media(rng: np.random.Generator, dates: pd.DatetimeIndex, market, chan_idx: np.ndarray,
                channels: list[str], cancel_rate: float) -> tuple[dict[str, np.ndarray], float, dict]:
    """Draw spend from the pre-media demand in ``market`` and add its effect to ``market``.

    ``market`` (the generator's pass-1 arrays: ``lam`` per series x day, ``units``, ``no_promo``,
    ``revenue``, ``orders`` per sales channel x day) is scaled **in place** on online channels by
    :func:`online_multiplier`; ``chan_idx`` is each series' sales channel. Returns the spend per
    marketing channel, the daily budget and ``truth["media"]``.
    """
    online = np.array([ch in ONLINE for ch in channels])
    spend, budget = draw_spend(rng, dates, market.orders[online].sum(0), market.revenue[online].sum(0))
    reach = courier_reach(dates, market.revenue[online].sum(0))
    contribution, per_channel, daily = media_effects(rng, spend, reach)
    mult = np.ones((len(channels), len(dates)))
    mult[online] = online_multiplier(contribution, market.revenue[online].sum(0), cancel_rate)
    for name in ("units", "no_promo", "revenue", "orders"):
        getattr(market, name)[...] *= mult
    for rows in range(0, len(chan_idx), 5000):  # in blocks: no full-size float64 temporary
        block = slice(rows, rows + 5000)
        market.lam[block] *= mult[chan_idx[block]].astype(np.float32)
    truth = media_truth(per_channel, contribution, float(market.revenue.sum()) * (1.0 - cancel_rate), daily,
                        mult[online][0])
    return spend, budget, truth
