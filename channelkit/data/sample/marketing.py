"""Daily ad-platform reports per paid marketing channel (the ``marketing`` table).

    spend[c, d]       drawn in ``media.py`` (budget, festival pushes, weekly flights)
    impressions[c, d] = round(1000 * spend / (cpm_c * exp(N(0, 0.08))))
    clicks            ~ Binomial(impressions, ctr_c * exp(N(0, 0.1)))
    sessions          ~ Binomial(clicks, session_rate_c)
    conversions       ~ Binomial(sessions, min(1, platform_cvr_c * demand_index(d)))

Platform conversions are the platforms' own last-click claims: they overlap across channels and
their sum exceeds the true online orders. Spend drives online demand through adstock and
saturation (``media.py``, truth in ``truth["media"]``); the journeys (``touchpoints``) carry the
touch-level view of the same orders.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# channel -> (budget share, CPM in CNY, CTR, sessions per click, platform conversion rate, festival boost)
PAID_CHANNELS: dict[str, tuple[float, float, float, float, float, float]] = {
    "search": (0.30, 45.0, 0.030, 0.90, 0.045, 1.8),
    "social": (0.20, 28.0, 0.012, 0.85, 0.018, 1.6),
    "kol": (0.22, 70.0, 0.020, 0.80, 0.035, 2.6),
    "email_sms": (0.06, 20.0, 0.015, 0.90, 0.050, 1.6),
    "affiliate": (0.12, 18.0, 0.025, 0.85, 0.040, 1.8),
    "display": (0.10, 9.0, 0.004, 0.80, 0.008, 1.6),
}


def make_marketing(rng: np.random.Generator, dates: pd.DatetimeIndex, spend_by_channel: dict[str, np.ndarray],
                   budget: float, online_orders: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """The ``marketing`` table and its truth, from the drawn spend and expected online orders per day."""
    demand_index = online_orders / online_orders.mean()
    frames = []
    for ch, (share, cpm, ctr, sess_rate, cvr, boost) in PAID_CHANNELS.items():
        n = len(dates)
        spend = spend_by_channel[ch]
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
        "spend_drives_demand": True,
    }
    return frame, truth
