"""Profit-maximising prices under constant elasticity, limited by business rules.

With demand ``q(p) = q0 (p / p0)^e``, unit cost ``c`` and the channel's commission ``k`` (a share
of the paid price), the per-period profit is ``(p (1 - k) - c) q(p)``. For ``e < -1`` it peaks at
the Lerner price on the net-of-commission cost::

    p* = c / (1 - k) * e / (1 + e)

For ``e >= -1`` (inelastic demand) profit grows with price without bound inside the model: no
interior optimum exists, the row is flagged ``inelastic`` and the price moves up by the largest
step the rules allow (a prompt to test a higher price, not a forecast).

Business rules, applied in this order (``binding_rule`` names the last one that moved the price):
1. ``parity_band``: every channel's price of a SKU within ``+/- parity_band`` of the SKU's
   reference price (the ``parity_reference`` channel's target, else the median target across
   channels), against price disorder (价格乱象) between channels;
2. ``max_change``: at most this relative change from the current price per step (it wins over
   parity: a wide gap between channels closes over several steps);
3. ``min_margin``: the gross margin after commission ``(p (1 - k) - c) / p`` stays at least this,
   i.e. ``p >= c / (1 - k - min_margin)`` (a floor that wins over both).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from channelkit.elasticity.design import check_panel
from channelkit.errors import InputError


@dataclass(frozen=True)
class PriceRules:
    """Business rules for price recommendations (see the module docstring); None switches one off."""

    max_change: float | None = 0.10
    min_margin: float | None = 0.10
    parity_band: float | None = 0.15
    parity_reference: str | None = None

    def __post_init__(self) -> None:
        for name in ("max_change", "min_margin", "parity_band"):
            v = getattr(self, name)
            if v is not None and not 0 <= v < 1:
                raise InputError(f"`{name}` must satisfy 0 <= {name} < 1 (a share), but got {v}")


def optimal_price(elasticity, unit_cost, commission=0.0) -> np.ndarray:
    """``p* = c / (1 - k) * e / (1 + e)`` for ``e < -1``; NaN where demand is inelastic (``e >= -1``)."""
    e = np.asarray(elasticity, dtype=float)
    c = np.asarray(unit_cost, dtype=float)
    k = np.asarray(commission, dtype=float)
    if np.any(k >= 1) or np.any(k < 0):
        raise InputError(f"`commission` must satisfy 0 <= commission < 1, but got {np.unique(k[(k >= 1) | (k < 0)])[:5]}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e < -1, c / (1 - k) * e / (1 + e), np.nan)


def margin_floor_price(unit_cost, commission, min_margin: float) -> np.ndarray:
    """Lowest price with gross margin after commission >= ``min_margin``: ``c / (1 - k - m)``."""
    k = np.asarray(commission, dtype=float)
    denom = 1 - k - min_margin
    if np.any(denom <= 0):
        raise InputError(f"`min_margin` {min_margin} plus a commission reaches 100% of the price; lower min_margin")
    return np.asarray(unit_cost, dtype=float) / denom


def _apply(price: np.ndarray, new: np.ndarray, rule: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    moved = ~np.isclose(price, new, rtol=1e-12, atol=0) & np.isfinite(new)
    return np.where(moved, new, price), np.where(moved, name, rule)


def _parity(frame: pd.DataFrame, price: np.ndarray, rules: PriceRules, sku_col: str, channel_col: str) -> np.ndarray:
    """Clip each price into the SKU's parity band around its reference price."""
    tmp = pd.DataFrame({"sku": frame[sku_col].to_numpy(), "ch": frame[channel_col].to_numpy(), "p": price})
    if rules.parity_reference is not None:
        ref = tmp[tmp["ch"] == rules.parity_reference].groupby("sku")["p"].first()
        ref = tmp["sku"].map(ref).fillna(tmp.groupby("sku")["p"].transform("median"))
    else:
        ref = tmp.groupby("sku")["p"].transform("median")
    ref = ref.to_numpy()
    return np.clip(price, ref * (1 - rules.parity_band), ref * (1 + rules.parity_band))


def recommend_prices(
    frame: pd.DataFrame,
    *,
    rules: PriceRules = PriceRules(),
    sku_col: str = "sku",
    channel_col: str = "channel",
    price_col: str = "price",
    elasticity_col: str = "elasticity",
    cost_col: str = "unit_cost",
    commission_col: str = "commission_rate",
    units_col: str = "units",
) -> pd.DataFrame:
    """Recommended price per SKU x channel with its expected effect, one row per input row.

    ``frame`` holds the current ``price``, ``elasticity`` (NaN when not identified),
    ``unit_cost``, ``commission_rate`` and optional baseline ``units`` per period. Added columns:
    ``p_star`` (unconstrained optimum), ``recommended_price``, ``change_pct``, ``binding_rule``,
    ``pricing_status`` (``ok``, ``inelastic``, ``not_identified``: price kept), ``units_change_pct``
    ``= (p1/p0)^e - 1``, ``margin_per_unit`` and, with ``units``, ``margin_change`` per period
    ``= (p1 (1-k) - c) q1 - (p0 (1-k) - c) q0``.
    """
    check_panel(frame, columns=[sku_col, channel_col, price_col, elasticity_col, cost_col, commission_col], name="frame")
    out = frame.copy()
    p0 = out[price_col].to_numpy(float)
    e = out[elasticity_col].to_numpy(float)
    c, k = out[cost_col].to_numpy(float), out[commission_col].to_numpy(float)
    p_star = optimal_price(e, c, k)
    status = np.where(np.isnan(e), "not_identified", np.where(e >= -1, "inelastic", "ok"))
    up = p0 * (1 + (rules.max_change if rules.max_change is not None else 0.0))
    price = np.where(status == "ok", p_star, np.where(status == "inelastic", up, p0))
    rule = np.where(status == "ok", "optimum", np.where(status == "inelastic", "max_change", "none"))
    keep = status == "not_identified"
    if rules.parity_band is not None:  # unidentified pairs keep their price, which anchors the band too
        price, rule = _apply(price, _parity(out, np.where(keep, p0, price), rules, sku_col, channel_col), rule, "parity")
    if rules.max_change is not None:
        lo, hi = p0 * (1 - rules.max_change), p0 * (1 + rules.max_change)
        price, rule = _apply(price, np.clip(price, lo, hi), rule, "max_change")
    floor = margin_floor_price(c, k, rules.min_margin) if rules.min_margin is not None else np.zeros_like(p0)
    price, rule = _apply(price, np.maximum(price, floor), rule, "min_margin")
    price, rule = np.where(keep, p0, price), np.where(keep, "none", rule)
    out["p_star"], out["recommended_price"] = p_star, np.round(price, 2)
    out["change_pct"] = out["recommended_price"] / p0 - 1
    out["binding_rule"], out["pricing_status"] = rule, status
    ratio = np.where(keep, 1.0, (out["recommended_price"].to_numpy() / p0) ** np.nan_to_num(e))
    out["units_change_pct"] = ratio - 1
    out["margin_per_unit"] = out["recommended_price"] * (1 - k) - c
    if units_col in out.columns:
        q0 = out[units_col].to_numpy(float)
        out["margin_change"] = out["margin_per_unit"] * q0 * ratio - (p0 * (1 - k) - c) * q0
    return out
