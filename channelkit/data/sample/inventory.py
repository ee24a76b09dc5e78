"""The stock snapshot at the end date (the ``inventory`` table, one pooled location ``all``).

For each SKU, ``daily_demand`` is its expected units per day over the last 28 days (all channels),
``lead_time_days ~ U{7..45}`` and ``on_hand = round(daily_demand * lead_time_days * cover)`` with
``cover ~ lognormal(log 1.6, 0.8)``: about a quarter of SKUs hold less than their lead-time demand
(due for reorder or about to run out), some hold many times it (overstocked).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def make_inventory(rng: np.random.Generator, skus: np.ndarray, daily_demand: np.ndarray,
                   as_of: pd.Timestamp) -> tuple[pd.DataFrame, list[dict]]:
    """The ``inventory`` table and truth rows {sku, daily_demand, lead_time_days, cover}."""
    n = len(skus)
    lead = rng.integers(7, 46, n)
    cover = np.exp(rng.normal(np.log(1.6), 0.8, n))
    on_hand = np.rint(daily_demand * lead * cover).astype(np.int64)
    frame = pd.DataFrame({"sku": skus, "location": "all", "on_hand": on_hand, "lead_time_days": lead,
                          "as_of": pd.Timestamp(as_of).normalize()})
    truth = [{"sku": str(s), "daily_demand": round(float(d), 4), "lead_time_days": int(lt),
              "cover": round(float(c), 4)} for s, d, lt, c in zip(skus, daily_demand, lead, cover)]
    return frame, truth
