"""Shelf and paid prices per SKU x sales channel x day.

- reference price ``ref = list_price(sku) * channel_factor * exp(N(0, 0.03))``: the price level the
  elasticity is measured against (``truth["series"][i]["reference_price"]``);
- shelf (list) price: a piecewise-constant random walk around ``ref``, drawn independently per
  series: a change every 10-35 days, log steps of +/-U(0.07, 0.14), reflected to stay within
  +/-0.40 of the reference in logs; shown as ``floor(p) + 0.9`` (ending in .9, as shops do);
- paid price ``= round(shelf * (1 - discount), 2)`` where ``discount`` is the channel's promotion
  or festival cut that day (0 otherwise).
Prices are kept in integer cents so nothing drifts between the arrays and the files.
"""
from __future__ import annotations

import numpy as np

LOG_BOUND = 0.40
STEP_RANGE = (0.07, 0.14)
GAP_RANGE = (10, 36)  # days between changes, integers in [10, 35]


def reference_prices(rng: np.random.Generator, list_price: np.ndarray, channel_factor: np.ndarray) -> np.ndarray:
    """``list_price * channel_factor * exp(N(0, 0.03))`` per series, rounded to cents."""
    return np.round(list_price * channel_factor * np.exp(rng.normal(0.0, 0.03, len(list_price))), 2)


def log_price_walk(rng: np.random.Generator, n_series: int, n_days: int) -> np.ndarray:
    """Piecewise-constant bounded random walk in log price, shape (series, day), float32.

    Loops over days (not series) so the work is vectorised across series.
    """
    level = rng.uniform(-0.2, 0.2, n_series)
    next_change = rng.integers(0, GAP_RANGE[1], n_series)
    out = np.empty((n_series, n_days), dtype=np.float32)
    for d in range(n_days):
        change = np.flatnonzero(next_change == d)
        if change.size:
            step = rng.uniform(*STEP_RANGE, change.size) * rng.choice((-1.0, 1.0), change.size)
            new = level[change] + step
            outside = np.abs(new) > LOG_BOUND
            new[outside] = level[change][outside] - step[outside]  # reflect at the bound
            level[change] = new
            next_change[change] = d + rng.integers(*GAP_RANGE, change.size)
        out[:, d] = level
    return out


def shelf_cents(ref_price: np.ndarray, log_walk: np.ndarray) -> np.ndarray:
    """Shelf price in cents: ``floor(ref * exp(walk)) + 0.9`` CNY, shape (series, day), int32."""
    yuan = np.floor(ref_price[:, None] * np.exp(log_walk.astype(np.float64)))
    return (np.maximum(yuan, 1.0) * 100 + 90).astype(np.int32)


def paid_cents(shelf: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """Paid price in cents: ``round(shelf * (1 - discount))``; ``discount`` broadcasts over series."""
    return np.rint(shelf * (1.0 - discount)).astype(np.int32)
