"""Channel-specific promotions: dates, discount, feature lift and the pull-forward dip after them.

Each sales channel runs 3-4 promotions a year, each 2-5 days long, on every SKU of that channel,
away from festival windows (at least 7 days clear on both sides) and from each other, so the other
channels' same SKUs are clean controls. During a promotion the paid price is the shelf price times
``1 - discount`` (10-30 %) and expected units are multiplied by ``feature_lift`` (1.15-1.6: the
traffic/placement effect beyond the price effect). On the ``dip_days`` (3-7) after it, expected
units are multiplied by ``dip_multiplier`` (0.80-0.93): customers who stocked up buy less.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

LEAD_IN_DAYS = 28  # no promotion starts in the first four weeks of the history
GAP_DAYS = 7  # clear days kept between a promotion window (incl. its dip) and festivals/other promos
PROMO_COLUMNS = ["event", "channel", "channel_idx", "start_idx", "end_idx", "discount", "feature_lift",
                 "dip_days", "dip_multiplier"]


def draw_promotions(rng: np.random.Generator, dates: pd.DatetimeIndex, channels: list[str],
                    blocked: np.ndarray) -> pd.DataFrame:
    """Draw the promotion events; ``blocked`` marks festival days (no promotion may come near them).

    Returns one row per promotion with the columns of ``PROMO_COLUMNS`` (``start_idx``/``end_idx``
    are inclusive day indices into ``dates``), sorted by channel and start.
    """
    rows = []
    n_days = len(dates)
    years = dates.year.to_numpy()
    for ci, ch in enumerate(channels):
        busy = blocked.copy()
        for year in np.unique(years):
            # the first weeks stay clear so every promotion has a pre-period to compare against
            in_year = np.flatnonzero((years == year) & (np.arange(n_days) >= LEAD_IN_DAYS))
            for _ in range(int(rng.integers(3, 5))):
                length = int(rng.integers(2, 6))
                dip_days = int(rng.integers(3, 8))
                span = length + dip_days
                ok = [d for d in in_year[:-span]
                      if not busy[max(d - GAP_DAYS, 0):min(d + span + GAP_DAYS, n_days)].any()]
                if not ok:
                    continue
                start = int(ok[int(rng.integers(len(ok)))])
                busy[start:start + span] = True
                rows.append((f"{ch}_promo_{dates[start]:%Y%m%d}", ch, ci, start, start + length - 1,
                             round(float(rng.uniform(0.10, 0.30)), 2), round(float(rng.uniform(1.15, 1.6)), 3),
                             dip_days, round(float(rng.uniform(0.80, 0.93)), 3)))
    frame = pd.DataFrame(rows, columns=PROMO_COLUMNS)
    return frame.sort_values(["channel_idx", "start_idx"]).reset_index(drop=True)


def promotion_arrays(promos: pd.DataFrame, n_channels: int, n_days: int) -> tuple[np.ndarray, ...]:
    """(discount, feature_lift, dip) arrays of shape (channel, day); 0, 1 and 1 outside promotions."""
    discount = np.zeros((n_channels, n_days))
    lift = np.ones((n_channels, n_days))
    dip = np.ones((n_channels, n_days))
    for p in promos.itertuples(index=False):
        window = slice(p.start_idx, p.end_idx + 1)
        discount[p.channel_idx, window] = p.discount
        lift[p.channel_idx, window] = p.feature_lift
        dip[p.channel_idx, p.end_idx + 1:p.end_idx + 1 + p.dip_days] = p.dip_multiplier
    return discount, lift, dip


def promotion_truth(promos: pd.DataFrame, dates: pd.DatetimeIndex, with_promo: np.ndarray,
                    without_promo: np.ndarray, dip_loss: np.ndarray) -> list[dict]:
    """Truth rows: expected units summed over the channel's SKUs and the promotion days.

    ``with_promo``/``without_promo`` are (channel, day) sums of expected units with the promotion's
    price cut and lift, and with neither (shelf price); ``dip_loss`` the expected units lost to the dip.
    """
    out = []
    for p in promos.itertuples(index=False):
        window = slice(p.start_idx, p.end_idx + 1)
        base = float(without_promo[p.channel_idx, window].sum())
        expected = float(with_promo[p.channel_idx, window].sum())
        dip_window = slice(p.end_idx + 1, p.end_idx + 1 + p.dip_days)
        out.append({
            "event": p.event, "channel": p.channel,
            "start": str(dates[p.start_idx].date()), "end": str(dates[p.end_idx].date()),
            "discount": p.discount, "feature_lift": p.feature_lift,
            "baseline_units": round(base, 3), "expected_units": round(expected, 3),
            "incremental_units": round(expected - base, 3),
            "post_dip": {
                "start": str(dates[p.end_idx + 1].date()), "days": int(p.dip_days),
                "multiplier": p.dip_multiplier,
                "lost_units": round(float(dip_loss[p.channel_idx, dip_window].sum()), 3),
            },
        })
    return out
