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
3. ``range_margin``: with ``price_min``/``price_max`` columns (the prices the data observed for
   the SKU and channel, :func:`observed_price_range`), the price stays within
   ``[price_min (1 - range_margin), price_max (1 + range_margin)]`` (default 5 %): the
   constant-elasticity curve is only known where prices were seen, so no recommendation
   extrapolates beyond them;
4. ``min_margin``: the gross margin after commission ``(p (1 - k) - c) / p`` stays at least this,
   i.e. ``p >= c / (1 - k - min_margin)`` (a floor that wins over all).

``action`` says what to do with the row: ``set price`` (the optimum, or the optimum limited by
parity, step or margin, lies within the observed range), ``test a price step`` (demand is
inelastic, or the optimum ``p*`` lies outside the observed range: the recommended price is then
a step towards it, to be tested before trusting a price the data never saw; ``change_pct`` is
the step and ``units_change_pct``/``margin_change`` its expected effect) or ``keep`` (no
elasticity, or a free item). :func:`rule_counts` counts the rows by rule and action.
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
    range_margin: float | None = 0.05

    def __post_init__(self) -> None:
        for name in ("max_change", "min_margin", "parity_band", "range_margin"):
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


def observed_price_range(panel: pd.DataFrame, *, sku_col: str = "sku", channel_col: str = "channel",
                         price_col: str = "price", units_col: str = "units") -> pd.DataFrame:
    """``price_min``/``price_max`` per SKU x channel: the lowest and highest price paid on periods with
    sales (free items, price 0, left out); the range a recommendation may use (module docstring)."""
    check_panel(panel, columns=[sku_col, channel_col, price_col, units_col])
    sold = panel[(panel[units_col] > 0) & (panel[price_col] > 0)]
    out = sold.groupby([sku_col, channel_col])[price_col].agg(price_min="min", price_max="max").reset_index()
    return out


def rule_counts(recommendations: pd.DataFrame) -> pd.DataFrame:
    """Rows per ``binding_rule`` and ``action`` of :func:`recommend_prices`, with the reason in words."""
    reasons = {"optimum": "the profit-maximising price, within every rule",
               "parity": "held within the parity band of the SKU's other channels",
               "max_change": "held to the largest step per change",
               "observed_range": "held within the prices the data observed (plus the range margin)",
               "min_margin": "raised to keep the minimum margin",
               "none": "kept: no elasticity or a free item"}
    counts = recommendations.groupby(["binding_rule", "action"]).size().rename("rows").reset_index()
    counts["reason"] = counts["binding_rule"].map(reasons).fillna("")
    return counts.sort_values("rows", ascending=False).reset_index(drop=True)


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
    ``pricing_status`` (``ok``, ``inelastic``, ``not_identified`` or ``free_item``: price kept),
    ``action`` (``set price``, ``test a price step``, ``keep``; module docstring), ``units_change_pct``
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
    status = np.where(p0 > 0, status, "free_item")  # a free item has no log price, no elasticity to use
    up = p0 * (1 + (rules.max_change if rules.max_change is not None else 0.0))
    price = np.where(status == "ok", p_star, np.where(status == "inelastic", up, p0))
    rule = np.where(status == "ok", "optimum", np.where(status == "inelastic", "max_change", "none"))
    keep = np.isin(status, ["not_identified", "free_item"])
    if rules.parity_band is not None:  # unidentified pairs keep their price, which anchors the band too
        price, rule = _apply(price, _parity(out, np.where(keep, p0, price), rules, sku_col, channel_col), rule, "parity")
    if rules.max_change is not None:
        lo, hi = p0 * (1 - rules.max_change), p0 * (1 + rules.max_change)
        price, rule = _apply(price, np.clip(price, lo, hi), rule, "max_change")
    outside = np.zeros(len(out), dtype=bool)
    if rules.range_margin is not None and {"price_min", "price_max"} <= set(out.columns):
        lo = out["price_min"].to_numpy(float) * (1 - rules.range_margin)
        hi = out["price_max"].to_numpy(float) * (1 + rules.range_margin)
        lo, hi = np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi)
        price, rule = _apply(price, np.clip(price, lo, hi), rule, "observed_range")
        outside = (p_star < lo) | (p_star > hi)
    floor = margin_floor_price(c, k, rules.min_margin) if rules.min_margin is not None else np.zeros_like(p0)
    price, rule = _apply(price, np.maximum(price, floor), rule, "min_margin")
    price, rule = np.where(keep, p0, price), np.where(keep, "none", rule)
    action = np.where(keep, "keep", np.where((status == "inelastic") | outside, "test a price step", "set price"))
    out["p_star"], out["recommended_price"] = p_star, np.round(price, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = out["recommended_price"] / p0 - 1
    out["binding_rule"], out["pricing_status"], out["action"] = rule, status, action
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = np.where(keep, 0.0, out["change_pct"])
        ratio = np.where(keep, 1.0, (out["recommended_price"].to_numpy() / p0) ** np.nan_to_num(e))
    out["units_change_pct"] = ratio - 1
    out["margin_per_unit"] = out["recommended_price"] * (1 - k) - c
    if units_col in out.columns:
        q0 = out[units_col].to_numpy(float)
        out["margin_change"] = out["margin_per_unit"] * q0 * ratio - (p0 * (1 - k) - c) * q0
    return out


def price_steps(recommendations: pd.DataFrame, *, top: int = 15) -> pd.DataFrame:
    """The ``test a price step`` rows of :func:`recommend_prices`, best expected margin first: the
    step (``change_pct``, to ``recommended_price``), its expected ``units_change_pct`` and
    ``margin_change``, and the rule that limited it."""
    cols = [c for c in ("sku", "channel", "price", "recommended_price", "change_pct", "units_change_pct",
                        "margin_change", "binding_rule", "pricing_status") if c in recommendations.columns]
    steps = recommendations[recommendations["action"] == "test a price step"]
    order = "margin_change" if "margin_change" in steps.columns else "change_pct"
    return steps.sort_values(order, ascending=False)[cols].head(top).reset_index(drop=True)
