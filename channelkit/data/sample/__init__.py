"""The sample retailer: a deterministic, fictional multi-channel seller with known ground truth.

``generate(out_dir, seed=7, scale="small")`` writes the seven contract tables (``channels``,
``products``, ``orders``, ``marketing``, ``touchpoints``, ``inventory``, ``events``) and then
``truth.json``, last, so its presence means the folder is complete. Same seed and scale, same bytes
(with the same pandas/pyarrow versions). ``load_truth(out_dir)`` reads the truth back.

What is in it
-------------
Daily history 2024-01-01 .. 2025-12-31 (731 days) at every scale. Sales channels ``tmall``,
``jd`` (marketplaces), ``douyin_live`` (live commerce), ``own_app`` (own store), ``offline_stores``;
marketing channels ``search``, ``social``, ``kol``, ``email_sms``, ``affiliate``, ``display`` (daily
spend) and ``direct`` (touchpoints only). Scales (``SCALES``): ``small`` 32 SKUs (160 SKU x channel
series), ``medium`` 300 SKUs, ``large`` 2,000 SKUs (10,000 series, 1,000,000 journeys).
Every SKU sells on every sales channel, in four categories (tea, snacks, skincare, home).

Expected units per SKU x channel x day (``demand.py``)::

    lambda = base * exp(growth * t) * weekly[channel][dow] * yearly[category](doy)
             * festival[channel](date) * feature_lift(promo) * dip(post-promo)
             * (paid_price / reference_price) ** elasticity
             * prod_k (paid_price_k / reference_price_k) ** cross_elasticity[sku, k]   (same channel)
             * exp(sku_shock[sku, week] + shelf_shock[channel, category, week] - var / 2)

The last two lines are the substitution between the SKUs of a category and the demand shocks
(``substitution.py``): SKUs are grouped into shelves of four within their category; about half
the ordered pairs of a shelf substitute (cross elasticity U(0.1, 0.4), other pairs 0); each SKU
has a weekly AR(1) shock (rho 0.7, sd 0.10) shared by its channels, and each channel x category x
week a shock (sd 0.06) shared by the category's SKUs on that channel. Both shocks are mean-one
multipliers independent of prices.

Order lines are negative binomial around ``lambda / E[line size]`` (shape 20, mildly
over-dispersed) with 1-3 units each, so expected units are exactly ``lambda``; lines are grouped
into baskets (multi-SKU orders), stamped with an intraday time, an order id (``TM20250611000123``),
a status (2 % cancelled, 3 % refunded: drawn independently of everything else) and a customer.
Shelf prices follow an independent bounded random walk per series; the paid price is the shelf
price times ``1 - discount`` on promotion and festival days (``prices.py``). See each module's
docstring for its formulas: ``effects.py`` (weekly, yearly, festivals), ``promotions.py``,
``customers.py`` (BG/NBD-like pool), ``marketing.py``, ``media.py`` (spend that drives demand),
``journeys.py`` (touchpoints and the
attribution truth), ``inventory.py``, ``events.py``, ``writer.py`` (file formats).

File formats: ``orders`` and ``touchpoints`` are Parquet (zstd) at every scale, the other tables
CSV. Reason: even ``small`` has ~265,000 order lines, 23 MB as CSV (26 MB for the folder), past
the few MB a default sample should take; as Parquet the folder is ~6 MB. ``fmt="csv"`` (or
``"parquet"``) forces one format for every table.

truth.json keys
---------------
- ``seed``, ``scale``, ``start``, ``end`` (ISO dates), ``currency`` (``"CNY"``).
- ``files`` {table: file name}; ``rows`` {table: rows written}.
- ``elasticity``: [{sku, channel, category, elasticity}]: the constant own-price elasticity of
  expected daily units with respect to the paid price, per SKU x sales channel.
- ``cross_channel_elasticity``: [] (no cross-channel price effect in this sample; rows would be
  {sku, channel, other_channel, elasticity}).
- ``category_elasticity`` {category: mean elasticity the series deviate from (sd 0.3, clipped)}.
- ``cross_price_elasticity``: [{category, sku, other_sku, elasticity}]: the elasticity of ``sku``'s
  expected units with respect to ``other_sku``'s paid price on the same channel (positive:
  substitutes), for the non-zero pairs only (every pair not listed is 0).
- ``substitution``: {shelf_size, share_nonzero, cross_range, shelves: {sku: shelf label},
  sku_shock: {period, rho, sd}, shelf_shock: {period, sd, by}} (the parameters, not the draws).
- ``series``: [{sku, channel, base, growth, reference_price}]: ``base`` units/day at the start
  (before weekly/yearly/festival effects, at the reference price), ``growth`` per year (log),
  ``reference_price`` in CNY.
- ``promotions``: [{event, channel, start, end, discount, feature_lift, baseline_units,
  expected_units, incremental_units, post_dip}]: one row per channel-specific promotion (all SKUs
  of the channel, dates inclusive). ``baseline_units``: expected units summed over the channel's
  SKUs and the promotion days at shelf price without lift; ``expected_units``: with the price cut
  and the lift; ``incremental_units`` = expected - baseline (expected values, not the drawn units).
  ``post_dip`` {start, days, multiplier, lost_units}: demand times ``multiplier`` on ``days`` days
  after the end; ``lost_units`` expected units lost there (net effect = incremental - lost).
- ``festivals`` {event: {phase: multiplier}}: the marketplace (tmall/jd) demand multipliers, on
  top of the price effect of festival discounts. Events ``spring_festival`` (phases pre, pause,
  after), ``womens_day_38``, ``99``, ``double12`` (presale, peak), ``618``, ``double11`` (presale,
  peak, after); dates from ``channelkit.data.calendar.festival_calendar``. Pre-sale/pre phases ramp
  up: the k-th of n days gets ``multiplier ** (k / n)``.
- ``festival_channel_multipliers`` {channel: {event: {phase: multiplier}}}: the same per sales
  channel (the reference raised to the channel's exposure; offline stores barely join shopping
  festivals and keep selling through the courier pause).
- ``festival_discounts``: [{event, year, channel, discount, start, end}]: online price cuts on
  pre-sale and peak days.
- ``seasonality``: {weekly: {channel: [Mon..Sun multipliers, mean 1]}, yearly_amplitude:
  {category: a}, yearly_peak_day: {category: day of year}}; yearly factor
  ``exp(a * cos(2 pi (doy - peak) / 365.25))``.
- ``attribution``: from ``journeys.make_journeys``: {model, base_rate, channel_effect, true_share,
  true_conversions, ...} (see that module).
- ``customers``: the pool's parameters {model, time_unit, r, alpha, a, b, cross_channel_beta,
  anonymous_share, n_customers_simulated, n_one_time_customers_added, ...} (see ``customers.py``).
- ``orders``: {line_dispersion, line_size_probs, basket_continue, cancel_rate, refund_rate}.
- ``marketing``: {daily_budget, channels: {channel: {budget_share, cpm, ctr, session_rate,
  platform_cvr, festival_boost}}, spend_drives_demand: true}.
- ``media``: how ad spend drives online revenue (``media.py``): {target, max_lag, channels: {channel:
  {adstock, half_life, saturation, beta, spend, contribution, roas, mroas}}, total_spend,
  total_contribution, contribution_share}; contributions and ROAS are in non-cancelled revenue
  (the sales panel's ``revenue + returned_revenue``), CNY.
- ``inventory``: [{sku, daily_demand, lead_time_days, cover}]: expected daily units over the last
  28 days and the stock cover drawn (on_hand = daily_demand * lead_time_days * cover, rounded).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from channelkit.errors import InputError

__all__ = ["SCALES", "generate", "load_truth"]


def __getattr__(name: str):
    # SCALES lives in the generator; importing it lazily keeps `import channelkit.data.sample` light.
    if name == "SCALES":
        from channelkit.data.sample.generator import SCALES

        return SCALES
    raise AttributeError(name)


def generate(out_dir: str | Path, *, seed: int = 7, scale: Literal["small", "medium", "large"] = "small",
             fmt: Literal["csv", "parquet"] | None = None, progress: bool = False) -> Path:
    """Write the sample retailer for ``seed`` and ``scale`` into ``out_dir``; returns ``out_dir``.

    Defaults: seed 7, scale ``"small"``, ``fmt=None`` (Parquet for orders and touchpoints, CSV for
    the other tables), no progress bar. Files of the contract tables (any format) and
    ``truth.json`` already in ``out_dir`` are replaced; ``truth.json`` is written last.
    """
    from channelkit.data.sample.generator import SCALES, run
    from channelkit.data.sample.writer import write_truth

    if scale not in SCALES:
        raise InputError(f"`scale` must be one of {sorted(SCALES)}, but got {scale!r}")
    if fmt not in (None, "csv", "parquet"):
        raise InputError(f"`fmt` must be 'csv', 'parquet' or None, but got {fmt!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"`seed` must be a non-negative integer, but got {seed!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"`out_dir` must be a folder, but {str(out)!r} is a file")
    out.mkdir(parents=True, exist_ok=True)
    truth = run(out, seed, scale, fmt, progress)
    write_truth(out, truth)
    return out


def load_truth(out_dir: str | Path) -> dict:
    """The ground truth of a generated sample folder (its ``truth.json``) as a dict."""
    path = Path(out_dir) / "truth.json"
    if not path.is_file():
        raise InputError(f"no truth.json in {str(out_dir)!r}: it is not a complete generated sample; "
                         f"make one with `channelkit sample --out {out_dir}`")
    return json.loads(path.read_text(encoding="utf-8"))
