"""Substitution between the SKUs of a category, and demand shocks shared over time and across SKUs.

Three multipliers on the expected units of :mod:`.demand` (series ``s`` = SKU ``j`` on channel
``c``, day ``d`` in week ``w``)::

    lambda[s, d] *= exp( sum_{k != j} eta[j, k] * log(paid[k, c, d] / ref[k, c]) )   cross-price
                  * exp(u[j, w] - sd_u^2 / 2)                                        SKU shock
                  * exp(v[c, category(j), w] - sd_v^2 / 2)                           shelf shock

- **Cross-price elasticities** ``eta[j, k]`` (demand of ``j`` to the price of ``k`` on the same
  channel): SKUs of a category are grouped into shelves of ``SHELF_SIZE`` consecutive SKUs (by
  their position in the category); each ordered pair of one shelf is a substitute with
  probability ``SHARE_NONZERO``, with ``eta ~ U(CROSS_RANGE)`` (positive: a cheaper ``k`` takes
  sales from ``j``); every other pair is 0. Prices enter against the other series' reference
  price, so at reference prices the level is unchanged.
- **SKU shocks** ``u[j, w]``: a stationary AR(1) over weeks per SKU (``SKU_SHOCK_RHO``,
  ``SKU_SHOCK_SD``), the same on every channel (a SKU trending on social media, a quality
  scare): demand shocks that persist for weeks and that channel x date effects cannot absorb.
- **Shelf shocks** ``v[c, k, w]``: independent ``N(0, SHELF_SHOCK_SD)`` per channel x category x
  week (a store's category display, a platform's category page), shared by the SKUs of the
  category on that channel.

Both shocks have mean 1 as multipliers and are independent of prices, so prices stay exogenous;
the truth keeps their parameters (not the draws). Draws use their own generator,
``default_rng([seed, STREAM])``, so the rest of the sample keeps its random stream.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

STREAM = 15  # second word of this module's seed: its draws never shift the other tables' streams
SHELF_SIZE = 4
SHARE_NONZERO = 0.5
CROSS_RANGE = (0.1, 0.4)
SKU_SHOCK_RHO = 0.7
SKU_SHOCK_SD = 0.10
SHELF_SHOCK_SD = 0.06


@dataclass(frozen=True)
class Substitution:
    """Drawn substitution: ``eta`` (n_sku x n_sku sparse, row = whose demand), weekly shocks, week of each day."""

    eta: sp.csr_matrix
    sku_shock: np.ndarray  # (n_sku, n_weeks) log scale
    shelf_shock: np.ndarray  # (n_channels, n_categories, n_weeks) log scale
    week: np.ndarray  # (n_days,) week index of each day

    def log_cross(self, log_ratio: np.ndarray, n_ch: int) -> np.ndarray:
        """``sum_k eta[j, k] * log_ratio[k, c]`` for every series (sku-major rows, ``n_ch`` per SKU)."""
        out = np.empty_like(log_ratio)
        for c in range(n_ch):
            out[c::n_ch] = self.eta @ log_ratio[c::n_ch]
        return out

    def shock(self, sku_idx: np.ndarray, chan_idx: np.ndarray, cat_idx: np.ndarray) -> np.ndarray:
        """Mean-one multiplier ``exp(u + v - (sd_u^2 + sd_v^2) / 2)`` per given series and day."""
        log = self.sku_shock[sku_idx][:, self.week] + self.shelf_shock[chan_idx, cat_idx][:, self.week]
        return np.exp(log - (SKU_SHOCK_SD ** 2 + SHELF_SHOCK_SD ** 2) / 2)


def shelves(categories_of_sku: np.ndarray) -> np.ndarray:
    """Shelf label per SKU: its category and its position in the category // ``SHELF_SIZE``."""
    cats = pd.Series(categories_of_sku)
    position = cats.groupby(cats).cumcount().to_numpy()
    return (cats.astype(str) + "#" + (position // SHELF_SIZE).astype(str)).to_numpy()


def draw_substitution(seed: int, categories_of_sku: np.ndarray, n_channels: int, n_categories: int,
                      dates: pd.DatetimeIndex) -> Substitution:
    """Draw the cross-price matrix and both shocks (module docstring) from ``default_rng([seed, STREAM])``."""
    rng = np.random.default_rng([seed, STREAM])
    shelf = shelves(categories_of_sku)
    n_sku = len(shelf)
    rows, cols, vals = [], [], []
    for label in pd.unique(shelf):
        members = np.flatnonzero(shelf == label)
        for j in members:
            for k in members:
                if j == k:
                    continue
                draw, size = rng.random(), rng.uniform(*CROSS_RANGE)  # two draws per pair, always
                if draw < SHARE_NONZERO:
                    rows.append(j), cols.append(k), vals.append(round(float(size), 4))
    eta = sp.csr_matrix((vals, (rows, cols)), shape=(n_sku, n_sku))
    week = ((dates - dates[0]).days.to_numpy() // 7).astype(np.int64)
    n_weeks = int(week.max()) + 1
    innov = rng.normal(0.0, SKU_SHOCK_SD * np.sqrt(1 - SKU_SHOCK_RHO ** 2), (n_sku, n_weeks))
    u = np.empty((n_sku, n_weeks))
    u[:, 0] = rng.normal(0.0, SKU_SHOCK_SD, n_sku)
    for w in range(1, n_weeks):
        u[:, w] = SKU_SHOCK_RHO * u[:, w - 1] + innov[:, w]
    v = rng.normal(0.0, SHELF_SHOCK_SD, (n_channels, n_categories, n_weeks))
    return Substitution(eta=eta, sku_shock=u, shelf_shock=v, week=week)


def substitution_truth(sub: Substitution, skus: np.ndarray, categories_of_sku: np.ndarray) -> dict:
    """truth.json keys ``cross_price_elasticity`` (non-zero pairs) and ``substitution`` (parameters)."""
    coo = sub.eta.tocoo()
    order = np.lexsort((coo.col, coo.row))
    pairs = [{"category": str(categories_of_sku[j]), "sku": str(skus[j]), "other_sku": str(skus[k]),
              "elasticity": float(e)} for j, k, e in zip(coo.row[order], coo.col[order], coo.data[order])]
    shelf = shelves(categories_of_sku)
    return {
        "cross_price_elasticity": pairs,
        "substitution": {
            "shelf_size": SHELF_SIZE, "share_nonzero": SHARE_NONZERO, "cross_range": list(CROSS_RANGE),
            "shelves": {str(s): str(label) for s, label in zip(skus, shelf)},
            "sku_shock": {"period": "week", "rho": SKU_SHOCK_RHO, "sd": SKU_SHOCK_SD},
            "shelf_shock": {"period": "week", "sd": SHELF_SHOCK_SD, "by": ["channel", "category"]},
        },
    }


def simulate_weekly_panel(seed: int, *, n_categories: int = 2, skus_per_category: int = 4, n_channels: int = 3,
                          n_weeks: int = 104, base: float = 20.0) -> tuple[pd.DataFrame, dict]:
    """A small weekly panel with this module's substitution and shocks, for fast recovery tests and docs.

    Per SKU x channel x week: Poisson units with mean ``base * exp(a_s + e_s log(p / ref) + sum_k eta[j, k]
    log(p_k / ref_k) + u + v - var/2)``: own elasticities ``e ~ U(-2.2, -1.0)`` per series, series
    levels ``a ~ N(0, 0.3)``, cross effects, SKU shocks ``u`` and channel x category shocks ``v`` as
    in :func:`draw_substitution` (one shelf per category when ``skus_per_category <= SHELF_SIZE``).
    Log prices move independently per series (a step ``N(0, 0.12)`` with probability 0.3 a week,
    bounded to +/-0.4) plus channel-wide 20 % promotions on 10 % of weeks. Returns the panel
    (``date, sku, channel, category, units, price``) and the truth ``{"own": {(sku, channel): e},
    "cross": {(sku, other_sku): eta}}`` (pairs of one category; absent pairs are 0).
    """
    rng = np.random.default_rng([seed, STREAM, 1])
    cats = np.repeat([f"cat{k}" for k in range(n_categories)], skus_per_category)
    n_sku = len(cats)
    dates = pd.date_range("2024-01-01", periods=n_weeks, freq="W-MON")
    sub = draw_substitution(seed, cats, n_channels, n_categories, pd.date_range(dates[0], periods=7 * n_weeks))
    steps = np.where(rng.random((n_sku, n_channels, n_weeks)) < 0.3, rng.normal(0, 0.12, (n_sku, n_channels, n_weeks)), 0)
    logp = np.clip(np.cumsum(steps, axis=2), -0.4, 0.4)
    promo = rng.random((n_channels, n_weeks)) < 0.1
    logp = logp + np.where(promo, np.log(0.8), 0.0)[None]
    own = rng.uniform(-2.2, -1.0, (n_sku, n_channels))
    level = rng.normal(0, 0.3, (n_sku, n_channels))
    cross = np.stack([sub.eta @ logp[:, c] for c in range(n_channels)], axis=1)  # (sku, channel, week)
    cat_idx = pd.factorize(cats)[0]
    shocks = (sub.sku_shock[:, :n_weeks][:, None, :] + sub.shelf_shock[:, cat_idx, :n_weeks].transpose(1, 0, 2)
              - (SKU_SHOCK_SD ** 2 + SHELF_SHOCK_SD ** 2) / 2)
    lam = base * np.exp(level[..., None] + own[..., None] * logp + cross + shocks)
    units = rng.poisson(lam)
    skus = np.array([f"S{j:02d}" for j in range(n_sku)])
    chans = np.array([f"ch{c}" for c in range(n_channels)])
    j, c, t = np.meshgrid(np.arange(n_sku), np.arange(n_channels), np.arange(n_weeks), indexing="ij")
    panel = pd.DataFrame({"date": dates[t.ravel()], "sku": skus[j.ravel()], "channel": chans[c.ravel()],
                          "category": cats[j.ravel()], "units": units.ravel(),
                          "price": np.round(10.0 * np.exp(logp.ravel()), 2)})
    coo = sub.eta.tocoo()
    truth = {"own": {(skus[a], chans[b]): float(own[a, b]) for a in range(n_sku) for b in range(n_channels)},
             "cross": {(skus[a], skus[b]): float(e) for a, b, e in zip(coo.row, coo.col, coo.data)}}
    return panel, truth
