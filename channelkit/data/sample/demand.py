"""Expected daily units per SKU x sales channel x day, and the order lines drawn from them.

    lambda[s, d] = base_s * exp(growth_s * t_d) * weekly[c, dow_d] * yearly[k, d] * festival[c, d]
                   * feature_lift[c, d] * dip[c, d] * (paid_price[s, d] / reference_price_s) ** elasticity_s

with ``t_d`` in years since the start date, ``c`` the series' channel and ``k`` its category.
``base`` is lognormal (median 2 units/day times a channel scale, log-sd 0.7: a few thin series
below 0.5/day, most between 1 and 8). Elasticities: a category mean drawn from U(-2.2, -1.0), plus
N(0, 0.3) per SKU x channel, clipped to [-3.5, -0.3]. No cross-channel price effect.

Order lines: per series and day the number of lines is negative binomial (Gamma-Poisson with shape
``DISPERSION``: variance ``mu + mu^2 / DISPERSION``) with mean ``lambda / E[line size]``; each line
holds 1-3 units with category-specific probabilities, so expected units are exactly ``lambda``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from channelkit.data.sample.effects import CalendarEffects

DISPERSION = 20.0
BASE_MEDIAN = 2.0
BASE_LOG_SD = 0.7
CHANNEL_SCALE = {"tmall": 1.4, "jd": 1.0, "douyin_live": 0.8, "own_app": 0.45, "offline_stores": 0.7}
CHANNEL_GROWTH = {"tmall": 0.03, "jd": 0.0, "douyin_live": 0.30, "own_app": 0.12, "offline_stores": -0.08}
ELASTICITY_RANGE = (-2.2, -1.0)
ELASTICITY_SD = 0.3
ELASTICITY_CLIP = (-3.5, -0.3)
# P(line holds 1, 2, 3 units) per category
LINE_SIZE = {"tea": (0.75, 0.18, 0.07), "snacks": (0.55, 0.30, 0.15), "skincare": (0.82, 0.14, 0.04),
             "home": (0.80, 0.15, 0.05)}


@dataclass(frozen=True)
class Series:
    """Parameters of every SKU x channel series (series ``s`` = sku ``s // C``, channel ``s % C``)."""

    sku_idx: np.ndarray
    chan_idx: np.ndarray
    cat_idx: np.ndarray
    base: np.ndarray
    growth: np.ndarray
    elasticity: np.ndarray
    ref_price: np.ndarray
    category_elasticity: dict

    def __len__(self) -> int:
        return len(self.base)


def draw_series(rng: np.random.Generator, products: pd.DataFrame, channels: list[str],
                categories: list[str], ref_price: np.ndarray) -> Series:
    """Draw base level, growth and elasticity per SKU x channel (sku-major order)."""
    n_sku, n_ch = len(products), len(channels)
    sku_idx = np.repeat(np.arange(n_sku), n_ch)
    chan_idx = np.tile(np.arange(n_ch), n_sku)
    cat_of_sku = pd.Categorical(products["category"], categories=categories).codes
    cat_idx = cat_of_sku[sku_idx].astype(np.int64)
    scale = np.array([CHANNEL_SCALE[c] for c in channels])[chan_idx]
    base = np.round(BASE_MEDIAN * scale * np.exp(rng.normal(0.0, BASE_LOG_SD, len(sku_idx))), 4)
    trend = np.array([CHANNEL_GROWTH[c] for c in channels])[chan_idx]
    growth = np.round(trend + rng.normal(0.0, 0.05, len(sku_idx)), 4)
    cat_mean = {c: round(float(rng.uniform(*ELASTICITY_RANGE)), 4) for c in categories}
    mean = np.array([cat_mean[c] for c in categories])[cat_idx]
    elasticity = np.round(np.clip(mean + rng.normal(0.0, ELASTICITY_SD, len(sku_idx)), *ELASTICITY_CLIP), 4)
    return Series(sku_idx, chan_idx, cat_idx, base, growth, elasticity, ref_price, cat_mean)


def expected_units(series: Series, rows: slice, dates: pd.DatetimeIndex, paid: np.ndarray,
                   effects: CalendarEffects, lift: np.ndarray, dip: np.ndarray) -> np.ndarray:
    """``lambda`` for the series in ``rows`` (see the module docstring); ``paid`` in cents, (rows, D)."""
    c = series.chan_idx[rows]
    t = ((dates - dates[0]).days.to_numpy() / 365.25)[None, :]
    dow = dates.dayofweek.to_numpy()
    lam = series.base[rows, None] * np.exp(series.growth[rows, None] * t)
    lam *= effects.weekly[c][:, dow]
    lam *= effects.yearly[series.cat_idx[rows]]
    lam *= effects.festival[c] * lift[c] * dip[c]
    lam *= (paid / (100.0 * series.ref_price[rows, None])) ** series.elasticity[rows, None]
    return lam


def mean_line_size(categories: list[str]) -> np.ndarray:
    """Expected units per order line for each category."""
    return np.array([np.dot(LINE_SIZE[c], (1, 2, 3)) for c in categories])


def draw_lines(rng: np.random.Generator, lam: np.ndarray, cat_idx: np.ndarray,
               categories: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw order lines for a block: returns (row in block, day, units) per line."""
    mu = lam / mean_line_size(categories)[cat_idx][:, None]
    counts = rng.negative_binomial(DISPERSION, DISPERSION / (DISPERSION + mu))
    rows, days = np.nonzero(counts)
    reps = counts[rows, days]
    rows, days = np.repeat(rows, reps), np.repeat(days, reps)
    cum = np.cumsum(np.array([LINE_SIZE[c] for c in categories]), axis=1)[cat_idx[rows]]
    u = rng.random(len(rows))
    units = 1 + (u > cum[:, 0]).astype(np.int64) + (u > cum[:, 1]).astype(np.int64)
    return rows, days, units


def series_truth(series: Series, products: pd.DataFrame, channels: list[str],
                 categories: list[str]) -> tuple[list, list]:
    """(elasticity rows, series rows) for truth.json."""
    skus = products["sku"].to_numpy()
    elasticity, rows = [], []
    for s in range(len(series)):
        sku, ch = str(skus[series.sku_idx[s]]), channels[series.chan_idx[s]]
        cat = categories[series.cat_idx[s]]
        elasticity.append({"sku": sku, "channel": ch, "category": cat, "elasticity": float(series.elasticity[s])})
        rows.append({"sku": sku, "channel": ch, "base": float(series.base[s]), "growth": float(series.growth[s]),
                     "reference_price": float(series.ref_price[s])})
    return elasticity, rows
