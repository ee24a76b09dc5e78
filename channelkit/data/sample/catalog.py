"""The sample retailer's channels and catalogue (the ``channels`` and ``products`` tables).

Five sales channels (two marketplace flagship stores, a live-commerce room, the own app and the
offline stores) and seven marketing channels (six with paid spend plus ``direct``). SKUs are spread
evenly over four categories; list prices are lognormal around a category median and end in .9,
unit costs are 30-55 % of the list price.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# (channel, type, display name, commission rate, order-id prefix, price factor vs. list price)
SALES_CHANNELS: tuple[tuple[str, str, str, float, str, float], ...] = (
    ("tmall", "marketplace", "Tmall flagship store", 0.05, "TM", 0.97),
    ("jd", "marketplace", "JD flagship store", 0.06, "JD", 0.95),
    ("douyin_live", "live_commerce", "Douyin live room", 0.10, "DY", 0.92),
    ("own_app", "own_store", "Own app and web shop", 0.01, "APP", 0.98),
    ("offline_stores", "offline", "Offline stores", 0.0, "POS", 1.0),
)

# (channel, type, display name). ``direct`` has touchpoints only, no spend rows.
MARKETING_CHANNELS: tuple[tuple[str, str, str], ...] = (
    ("search", "search", "Paid search"),
    ("social", "social", "Social ads"),
    ("kol", "kol", "KOL / livestream hosts"),
    ("email_sms", "email_sms", "E-mail and SMS"),
    ("affiliate", "affiliate", "Affiliates"),
    ("display", "display", "Display ads"),
    ("direct", "direct", "Direct / organic"),
)

# category -> (median list price in CNY, product stems, brands)
CATEGORIES: dict[str, tuple[float, tuple[str, ...], tuple[str, ...]]] = {
    "tea": (68.0, ("Jasmine green tea", "Longjing green tea", "Pu'er tea cake", "Tieguanyin oolong",
                   "Keemun black tea", "White peony tea", "Chrysanthemum tea", "Dianhong black tea"),
            ("Hillside", "Cloud Peak", "Old Garden")),
    "snacks": (29.0, ("Roasted sunflower seeds", "Spicy beef jerky", "Dried mango slices", "Walnut mix",
                      "Seaweed crisps", "Osmanthus cakes", "Pork floss rolls", "Hawthorn bars"),
               ("Happy Bite", "Golden Crunch", "Lucky Cat")),
    "skincare": (159.0, ("Hydrating essence", "Sunscreen SPF50", "Night repair cream", "Cleansing foam",
                         "Sheet mask box", "Eye serum", "Toner mist", "Lip balm set"),
                 ("Pure Lotus", "Jade Dew", "Moonlight")),
    "home": (89.0, ("Bamboo towel set", "Ceramic tea cups", "Storage baskets", "Scented candle",
                    "Cotton pillowcases", "Glass food boxes", "Wooden chopsticks set", "Linen table runner"),
             ("Calm Home", "North Nest", "Simple Days")),
}
SIZES = ("S", "M", "L", "XL", "Gift box", "Family pack", "Travel", "Classic")


def make_channels() -> pd.DataFrame:
    """The ``channels`` table: sales channels first, then marketing channels (commission 0)."""
    rows = [(c, "sales", t, n, rate) for c, t, n, rate, _, _ in SALES_CHANNELS]
    rows += [(c, "marketing", t, n, 0.0) for c, t, n in MARKETING_CHANNELS]
    return pd.DataFrame(rows, columns=["channel", "kind", "type", "name", "commission_rate"])


def sales_channel_names() -> list[str]:
    """Sales channel ids in the generator's fixed order (the channel index of every array)."""
    return [c[0] for c in SALES_CHANNELS]


def make_products(rng: np.random.Generator, n_skus: int) -> pd.DataFrame:
    """The ``products`` table with ``n_skus`` SKUs, assigned to the categories in turn.

    ``list_price = floor(median * exp(N(0, 0.45))) + 0.9`` (at least 3.9) and
    ``unit_cost = list_price * U(0.30, 0.55)`` rounded to cents.
    """
    cats = list(CATEGORIES)
    width = max(4, len(str(n_skus)))
    idx = np.arange(n_skus)
    category = np.array([cats[i % len(cats)] for i in idx])
    median = np.array([CATEGORIES[c][0] for c in category])
    list_price = np.maximum(np.floor(median * np.exp(rng.normal(0.0, 0.45, n_skus))), 3.0) + 0.9
    unit_cost = np.round(list_price * rng.uniform(0.30, 0.55, n_skus), 2)
    within = idx // len(cats)  # position of the SKU inside its category
    names, brands = [], []
    for c, k in zip(category, within):
        _, stems, brand_list = CATEGORIES[c]
        stem = stems[k % len(stems)]
        size = SIZES[(k // len(stems)) % len(SIZES)]
        series = k // (len(stems) * len(SIZES))
        names.append(f"{stem} {size}" + (f" {series + 1}" if series else ""))
        brands.append(brand_list[int(rng.integers(len(brand_list)))])
    return pd.DataFrame({
        "sku": [f"SKU-{i + 1:0{width}d}" for i in idx],
        "name": names,
        "category": category,
        "brand": brands,
        "unit_cost": unit_cost,
        "list_price": np.round(list_price, 2),
    })
