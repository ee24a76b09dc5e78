"""Orchestrate the sample retailer: draw every parameter, then write the tables and ``truth.json``.

Two passes keep memory flat at every scale: pass 1 draws prices and expected units over blocks of
``BLOCK_SKUS`` SKUs (kept as compact int32/float32 arrays of series x day); pass 2 draws the order
lines of every series for a chunk of consecutive days and appends them to the orders file, so
the file is in time order and a basket can hold any SKUs of the catalogue. Each component draws from its own child of
``numpy.random.SeedSequence(seed)``, so changing one component leaves the others' draws intact.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from channelkit.data.sample import catalog, customers, demand, effects, prices, promotions, substitution
from channelkit.data.sample.media import apply_media
from channelkit.data.sample.events import make_events
from channelkit.data.sample.inventory import make_inventory
from channelkit.data.sample.journeys import make_journeys
from channelkit.data.sample.marketing import make_marketing
from channelkit.data.sample.orders import ANONYMOUS_SHARE, BASKET_CONTINUE, CANCEL_RATE, REFUND_RATE, build_orders
from channelkit.data.sample.writer import TableWriter, remove_existing, write_table

START = pd.Timestamp("2024-01-01")
END = pd.Timestamp("2025-12-31")
CURRENCY = "CNY"
BLOCK_SKUS = 25
CHUNK_SERIES_DAYS = 60_000  # pass 2 draws the orders of all series for a few days at a time
JOURNEY_ORDER_CAP = 500_000  # online orders handed to make_journeys (whole customers, thinned above it)
TABLE_NAMES = ["channels", "products", "orders", "marketing", "touchpoints", "inventory", "events"]
BIG_TABLES = ("orders", "touchpoints")


@dataclass(frozen=True)
class Scale:
    """Size of a sample: SKUs (x 5 sales channels = series), journeys, default file format of big tables."""

    n_skus: int
    n_journeys: int
    big_format: Literal["csv", "parquet"]


SCALES: dict[str, Scale] = {
    "small": Scale(n_skus=32, n_journeys=60_000, big_format="parquet"),
    "medium": Scale(n_skus=300, n_journeys=200_000, big_format="parquet"),
    "large": Scale(n_skus=2_000, n_journeys=1_000_000, big_format="parquet"),
}


@dataclass
class Market:
    """Everything pass 1 produces: prices, expected units and their sums per channel-day."""

    paid: np.ndarray  # (S, D) int32 cents
    shelf: np.ndarray  # (S, D) int32 cents
    lam: np.ndarray  # (S, D) float32 expected units
    units: np.ndarray  # (C, D) expected units
    no_promo: np.ndarray  # (C, D) expected units without promotion price cut, lift and dip
    revenue: np.ndarray  # (C, D) expected revenue
    orders: np.ndarray  # (C, D) expected orders (lines grouped into baskets)


def _day_chunks(n_series: int, n_days: int) -> list[slice]:
    """Consecutive day ranges of about ``CHUNK_SERIES_DAYS`` series-days each (at least one day)."""
    step = max(1, CHUNK_SERIES_DAYS // n_series)
    return [slice(d, min(d + step, n_days)) for d in range(0, n_days, step)]


def _blocks(n_skus: int, n_ch: int) -> list[slice]:
    """Series slices of ``BLOCK_SKUS`` SKUs each (series are SKU-major, ``n_ch`` per SKU)."""
    return [slice(s * n_ch, min(s + BLOCK_SKUS, n_skus) * n_ch) for s in range(0, n_skus, BLOCK_SKUS)]


def _cross_terms(sub: substitution.Substitution, series: demand.Series, shelf: np.ndarray, paid: np.ndarray,
                 promo_disc: np.ndarray, n_ch: int) -> tuple[np.ndarray, np.ndarray]:
    """Log cross-price multipliers (:mod:`.substitution`) at the paid prices and at the prices without
    the channels' promotion cuts (for the promotions' baseline), each (S, D) float32."""
    ref = 100.0 * series.ref_price[:, None]
    no_promo = np.where(promo_disc[series.chan_idx] > 0, shelf, paid)
    return (sub.log_cross(np.log(paid / ref).astype(np.float32), n_ch),
            sub.log_cross(np.log(no_promo / ref).astype(np.float32), n_ch))


def _pass_prices_demand(rng: np.random.Generator, series: demand.Series, dates: pd.DatetimeIndex,
                        eff: effects.CalendarEffects, promo_disc: np.ndarray, lift: np.ndarray, dip: np.ndarray,
                        discount: np.ndarray, categories: list[str], n_ch: int, progress: bool,
                        sub: substitution.Substitution) -> Market:
    """Pass 1: shelf and paid prices of every series, then expected units per series and day (with
    the substitution between SKUs, which needs every price first) and their channel sums."""
    n_s, n_d = len(series), len(dates)
    paid = np.empty((n_s, n_d), np.int32)
    shelf = np.empty((n_s, n_d), np.int32)
    lam = np.empty((n_s, n_d), np.float32)
    units, no_promo, revenue, orders = (np.zeros((n_ch, n_d)) for _ in range(4))
    line_size = demand.mean_line_size(categories)
    blocks = _blocks(len(series) // n_ch, n_ch)
    for rows in tqdm(blocks, desc="prices", disable=not progress):
        c = series.chan_idx[rows]
        shelf[rows] = prices.shelf_cents(series.ref_price[rows], prices.log_price_walk(rng, len(c), n_d))
        paid[rows] = prices.paid_cents(shelf[rows], discount[c])
    cross, cross_no_promo = _cross_terms(sub, series, shelf, paid, promo_disc, n_ch)
    for rows in tqdm(blocks, desc="demand", disable=not progress):
        c = series.chan_idx[rows]
        block = demand.expected_units(series, rows, dates, paid[rows], eff, lift, dip)
        block *= np.exp(cross[rows]) * sub.shock(series.sku_idx[rows], c, series.cat_idx[rows])  # substitution.py
        lam[rows] = block
        undo = np.where(promo_disc[c] > 0, (shelf[rows] / paid[rows]) ** series.elasticity[rows, None], 1.0)
        undo *= np.exp(cross_no_promo[rows] - cross[rows])  # the promotion also cut the substitutes' prices
        shaped = (-1, n_ch, n_d)
        units += block.reshape(shaped).sum(0)
        no_promo += (block * undo / (lift[c] * dip[c])).reshape(shaped).sum(0)
        revenue += (block * paid[rows] / 100.0).reshape(shaped).sum(0)
        per_order = line_size[series.cat_idx[rows]][:, None] / (1.0 - BASKET_CONTINUE)
        orders += (block / per_order).reshape(shaped).sum(0)
    return Market(paid, shelf, lam, units, no_promo, revenue, orders)


def _pass_orders(rng: np.random.Generator, out_dir: Path, fmt: str, series: demand.Series, market: Market,
                 products: pd.DataFrame, channels: list[str], categories: list[str], dates: pd.DatetimeIndex,
                 pool: customers.CustomerPool, keep_every: int, progress: bool) -> tuple[pd.DataFrame, int]:
    """Draw and write the orders; return the online orders handed to the journeys and the row count."""
    skus = products["sku"].to_numpy().astype(object)
    prefixes = [c[4] for c in catalog.SALES_CHANNELS]
    counters = np.zeros((len(channels), len(dates)), dtype=np.int64)
    width = max(7, len(str(2 * pool.n_customers)))
    online = [ch for ch in channels if ch not in ANONYMOUS_SHARE]
    keep = []
    with TableWriter(out_dir, "orders", fmt) as writer:
        for days in tqdm(_day_chunks(len(series), len(dates)), desc="orders", disable=not progress):
            r, d, units = demand.draw_lines(rng, market.lam[:, days], series.cat_idx, categories)
            d += days.start
            frame = build_orders(
                rng, sku_num=series.sku_idx[r], chan=series.chan_idx[r], day=d, units=units,
                paid=market.paid[r, d], shelf=market.shelf[r, d], skus=skus, channels=channels,
                prefixes=prefixes, dates=dates, pool=pool, counters=counters, id_width=width)
            writer.write(frame)
            # journeys end in online orders of known customers; a cancelled order never converted
            sel = frame["channel"].isin(online) & frame["customer_id"].notna() & (frame["status"] != "cancelled")
            part = frame.loc[sel, ["order_id", "customer_id", "order_ts", "channel"]].drop_duplicates("order_id")
            if keep_every > 1:  # whole customers, so each kept customer's order history stays complete
                part = part[part["customer_id"].str[1:].astype(np.int64) % keep_every == 0]
            # Arrow strings: a tenth of the memory of Python str objects for the kept orders
            keep.append(part.astype({"order_id": "string[pyarrow]", "customer_id": "string[pyarrow]",
                                     "channel": "category"}))
    return pd.concat(keep, ignore_index=True), writer.rows


def _default_format(scale: str, fmt: str | None, table: str) -> str:
    """``fmt`` when given, else the scale's format for the big tables and CSV for the rest."""
    if fmt is not None:
        return fmt
    return SCALES[scale].big_format if table in BIG_TABLES else "csv"


def run(out_dir: Path, seed: int, scale: str, fmt: str | None, progress: bool) -> dict:
    """Generate into ``out_dir`` (already validated arguments); returns the truth dict."""
    seeds = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(11)]
    (r_cat, r_eff, r_promo, r_price, r_series, r_cust, r_orders, r_journey, r_mkt, r_inv, r_media) = seeds
    dates = pd.date_range(START, END, freq="D")
    channels, categories = catalog.sales_channel_names(), list(catalog.CATEGORIES)
    n_ch = len(channels)
    remove_existing(out_dir, TABLE_NAMES)
    products = catalog.make_products(r_cat, SCALES[scale].n_skus)
    eff = effects.draw_calendar_effects(r_eff, dates, channels, categories)
    promos = promotions.draw_promotions(r_promo, dates, channels, eff.festival_days)
    promo_disc, lift, dip = promotions.promotion_arrays(promos, n_ch, len(dates))
    factor = np.array([c[5] for c in catalog.SALES_CHANNELS])
    ref = prices.reference_prices(r_price, np.repeat(products["list_price"].to_numpy(), n_ch),
                                  np.tile(factor, len(products)))
    series = demand.draw_series(r_series, products, channels, categories, ref)
    sub = substitution.draw_substitution(seed, products["category"].to_numpy(), n_ch, len(categories), dates)
    market = _pass_prices_demand(r_price, series, dates, eff, promo_disc, lift, dip,
                                 np.maximum(promo_disc, eff.festival_discount), categories, n_ch, progress, sub)
    # ad spend drives online demand (media.py): scales the pass-1 arrays in place
    spend, budget, media_truth = apply_media(r_media, dates, market, series.chan_idx, channels, CANCEL_RATE)
    anon = np.array([ANONYMOUS_SHARE.get(ch, 0.0) for ch in channels])[:, None]
    pool = customers.build_pool(r_cust, market.orders * (1.0 - anon), customers.draw_parameters(r_cust))
    online = np.array([ch not in ANONYMOUS_SHARE for ch in channels])
    keep_every = max(1, int(market.orders[online].sum() // JOURNEY_ORDER_CAP))
    journey_orders, n_order_rows = _pass_orders(r_orders, out_dir, _default_format(scale, fmt, "orders"), series,
                                                market, products, channels, categories, dates, pool, keep_every,
                                                progress)
    del market.paid, market.shelf  # the big arrays are no longer needed
    marketing_ch = [c[0] for c in catalog.MARKETING_CHANNELS]
    touchpoints, attribution = make_journeys(r_journey, channels=marketing_ch, orders=journey_orders,
                                             n_journeys=SCALES[scale].n_journeys, start=START, end=END)
    del journey_orders
    write_table(out_dir, "touchpoints", touchpoints, _default_format(scale, fmt, "touchpoints"))
    rows = {"orders": n_order_rows, "touchpoints": len(touchpoints)}
    del touchpoints
    mkt, mkt_truth = make_marketing(r_mkt, dates, spend, budget, market.orders[online].sum(0))
    recent = market.lam[:, -28:].mean(axis=1).reshape(-1, n_ch).sum(axis=1)
    inventory, inv_truth = make_inventory(r_inv, products["sku"].to_numpy(), recent, END)
    small = {"channels": catalog.make_channels(), "products": products, "marketing": mkt, "inventory": inventory,
             "events": make_events(dates, promos)}
    for name, frame in small.items():
        write_table(out_dir, name, frame, _default_format(scale, fmt, name))
        rows[name] = len(frame)
    truth = _truth(seed, scale, fmt, rows, series, products, channels, categories, promos, dates, market)
    truth.update(substitution.substitution_truth(sub, products["sku"].to_numpy(), products["category"].to_numpy()))
    return dict(truth, **eff.truth, attribution=attribution, marketing=mkt_truth, media=media_truth,
                inventory=inv_truth,
                customers=dict(pool.truth, anonymous_share=ANONYMOUS_SHARE,
                               n_one_time_customers_added=int(pool.next_new - pool.n_customers)))


def _truth(seed: int, scale: str, fmt: str | None, rows: dict, series: demand.Series, products: pd.DataFrame,
           channels: list[str], categories: list[str], promos: pd.DataFrame, dates: pd.DatetimeIndex,
           market: Market) -> dict:
    """The truth keys owned by the generator itself (see the package docstring)."""
    elasticity, series_rows = demand.series_truth(series, products, channels, categories)
    return {
        "seed": int(seed), "scale": scale, "start": str(START.date()), "end": str(END.date()),
        "currency": CURRENCY,
        "files": {name: f"{name}.{_default_format(scale, fmt, name)}" for name in TABLE_NAMES},
        "rows": {name: int(rows[name]) for name in TABLE_NAMES},
        "elasticity": elasticity, "cross_channel_elasticity": [],
        "category_elasticity": series.category_elasticity, "series": series_rows,
        "promotions": promotions.promotion_truth(promos, dates, market.units, market.no_promo,
                                                 market.no_promo - market.units),
        "orders": {"line_dispersion": demand.DISPERSION,
                   "line_size_probs": {k: list(v) for k, v in demand.LINE_SIZE.items()},
                   "basket_continue": BASKET_CONTINUE, "cancel_rate": CANCEL_RATE, "refund_rate": REFUND_RATE},
    }
