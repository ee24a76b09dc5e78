"""Daily ad-platform reports per paid marketing channel (the ``marketing`` table).

    spend[c, d]       = budget * share_c * season(d) * weekly_c[dow] * boost_c(d) * exp(N(0, 0.15))
    impressions[c, d] = round(1000 * spend / (cpm_c * exp(N(0, 0.08))))
    clicks            ~ Binomial(impressions, ctr_c * exp(N(0, 0.1)))
    sessions          ~ Binomial(clicks, session_rate_c)
    conversions       ~ Binomial(sessions, min(1, platform_cvr_c * demand_index(d)))

``budget`` is 12 % of the expected online revenue per day; ``season`` follows the online demand
(7-day mean of the expected online orders relative to its average, to the power 0.5) and
``boost_c`` multiplies spend on pre-sale and peak days of 618 and Double 11 (x1.6-2.6).
Platform conversions are the platforms' own last-click claims: they overlap across channels and
their sum exceeds the true online orders. In this sample demand does not respond to spend:
marketing's causal effect is expressed only through the customer journeys (``touchpoints``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.data.calendar import festival_calendar

# channel -> (budget share, CPM in CNY, CTR, sessions per click, platform conversion rate, festival boost)
PAID_CHANNELS: dict[str, tuple[float, float, float, float, float, float]] = {
    "search": (0.30, 45.0, 0.030, 0.90, 0.045, 1.8),
    "social": (0.20, 28.0, 0.012, 0.85, 0.018, 1.6),
    "kol": (0.22, 70.0, 0.020, 0.80, 0.035, 2.6),
    "email_sms": (0.06, 20.0, 0.015, 0.90, 0.050, 1.6),
    "affiliate": (0.12, 18.0, 0.025, 0.85, 0.040, 1.8),
    "display": (0.10, 9.0, 0.004, 0.80, 0.008, 1.6),
}
BUDGET_SHARE = 0.12
WEEKLY = (1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.05)


def _boost_days(dates: pd.DatetimeIndex) -> np.ndarray:
    cal = festival_calendar(dates[0], dates[-1])
    cal = cal[cal["event"].isin(["618", "double11"]) & (cal["phase"] != "after")]
    out = np.zeros(len(dates), dtype=bool)
    out[dates.get_indexer(cal["date"])] = True
    return out


def make_marketing(rng: np.random.Generator, dates: pd.DatetimeIndex, online_orders: np.ndarray,
                   online_revenue: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """The ``marketing`` table and its truth, from expected online orders and revenue per day."""
    budget = BUDGET_SHARE * float(online_revenue.mean())
    smooth = pd.Series(online_orders).rolling(7, center=True, min_periods=1).mean().to_numpy()
    season = (smooth / smooth.mean()) ** 0.5
    demand_index = online_orders / online_orders.mean()
    boost_day = _boost_days(dates)
    weekly = np.array(WEEKLY)[dates.dayofweek.to_numpy()]
    frames = []
    for ch, (share, cpm, ctr, sess_rate, cvr, boost) in PAID_CHANNELS.items():
        n = len(dates)
        spend = budget * share * season * weekly * np.where(boost_day, boost, 1.0)
        spend = np.round(spend * np.exp(rng.normal(0.0, 0.15, n)), 2)
        impressions = np.rint(1000.0 * spend / (cpm * np.exp(rng.normal(0.0, 0.08, n)))).astype(np.int64)
        clicks = rng.binomial(impressions, np.clip(ctr * np.exp(rng.normal(0.0, 0.1, n)), 0, 1))
        sessions = rng.binomial(clicks, sess_rate)
        conversions = rng.binomial(sessions, np.clip(cvr * demand_index, 0, 1))
        frames.append(pd.DataFrame({"date": dates, "channel": ch, "spend": spend, "impressions": impressions,
                                    "clicks": clicks, "sessions": sessions, "conversions": conversions}))
    frame = pd.concat(frames, ignore_index=True).sort_values(["date", "channel"], ignore_index=True)
    truth = {
        "daily_budget": round(budget, 2),
        "channels": {ch: dict(zip(("budget_share", "cpm", "ctr", "session_rate", "platform_cvr", "festival_boost"),
                                  v)) for ch, v in PAID_CHANNELS.items()},
        "spend_drives_demand": False,
    }
    return frame, truth
