"""A customer pool that buys again and across channels (BG/NBD-like), matched to the orders.

Each simulated customer ``i`` has
- an acquisition time ``t0_i ~ U(-1, T)`` years (``T`` = length of the history; customers acquired
  before the start are already active on day one), and a first purchase at ``t0_i``;
- a purchase rate ``lambda_i ~ Gamma(shape r, rate alpha)`` per year (exponential gaps between
  purchases) and a dropout probability ``p_i ~ Beta(a, b)``: after every purchase the customer
  leaves for good with probability ``p_i`` (Fader, Hardie and Lee's BG/NBD story);
- a home sales channel (drawn with the channels' shares of identified orders) and a probability
  ``q_i ~ Beta(1.2, 5)`` that a purchase goes to a channel drawn afresh from the same shares, so the
  expected channel mix matches the orders and some customers buy on several channels.

The purchase times live in "operational time": an event at fraction ``u = t / T`` of the history
on channel ``c`` happens on the day where the channel's cumulative expected identified orders
reach ``u``. Demand (prices, festivals, promotions) thus sets *when* orders happen, and the pool
sets *who* places them. Orders of a channel-day take that day's customer events in random order;
when a day has more orders than events, its events are reused (the same customer buys again that
day), and a day without events gets a new one-time customer; unused events are dropped. The
recorded parameters therefore describe the pool, not an exact BG/NBD fit of the orders.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_BATCH, MAX_BATCH = 20_000, 500_000  # customers simulated per batch until the pool covers the orders


@dataclass
class CustomerPool:
    """Customer events grouped by (channel, day), consumed by :meth:`assign`."""

    customer: np.ndarray  # customer number of each event, grouped by (channel, day)
    start: np.ndarray  # (C, D) first event of each group
    count: np.ndarray  # (C, D) events in each group
    n_customers: int
    truth: dict
    taken: np.ndarray = field(init=False)
    next_new: int = field(init=False)

    def __post_init__(self) -> None:
        self.taken = np.zeros_like(self.count)
        self.next_new = self.n_customers

    def assign(self, chan: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Customer numbers (0-based) for identified orders on (``chan``, ``day``), in the given order."""
        n_days = self.count.shape[1]
        group = chan.astype(np.int64) * n_days + day
        order = np.argsort(group, kind="stable")
        g_sorted = group[order]
        first = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
        rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
        taken, count, start = self.taken.ravel(), self.count.ravel(), self.start.ravel()
        idx = taken[g_sorted] + rank
        n = count[g_sorted]
        out_sorted = np.empty(len(order), dtype=np.int64)
        has = n > 0
        out_sorted[has] = self.customer[start[g_sorted[has]] + idx[has] % n[has]]
        n_new = int((~has).sum())
        out_sorted[~has] = self.next_new + np.arange(n_new)
        self.next_new += n_new
        np.add.at(taken, g_sorted, 1)
        out = np.empty_like(out_sorted)
        out[order] = out_sorted
        return out


def draw_parameters(rng: np.random.Generator) -> dict:
    """The pool's population parameters (time unit: years)."""
    return {"r": round(float(rng.uniform(0.6, 1.2)), 4), "alpha": round(float(rng.uniform(0.2, 0.4)), 4),
            "a": round(float(rng.uniform(0.6, 1.0)), 4), "b": round(float(rng.uniform(2.5, 4.0)), 4),
            "cross_channel_beta": [1.2, 5.0]}


def _simulate_batch(rng: np.random.Generator, n: int, horizon: float, params: dict,
                    shares: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Purchase events of ``n`` customers in [0, horizon): (local customer index, time, channel)."""
    t = rng.uniform(-1.0, horizon, n)
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p_drop = rng.beta(params["a"], params["b"], n)
    home = rng.choice(len(shares), size=n, p=shares)
    q = rng.beta(*params["cross_channel_beta"], n)
    who, when = [], []
    alive = np.arange(n)
    cur = t.copy()
    while alive.size:
        who.append(alive)
        when.append(cur[alive])
        stays = rng.random(alive.size) >= p_drop[alive]
        alive = alive[stays]
        cur[alive] += rng.exponential(1.0, alive.size) / rate[alive]
        alive = alive[cur[alive] < horizon]
    who_a, when_a = np.concatenate(who), np.concatenate(when)
    keep = when_a >= 0.0
    who_a, when_a = who_a[keep].astype(np.int32), when_a[keep].astype(np.float32)
    switch = rng.random(who_a.size) < q[who_a]
    chan = np.where(switch, rng.choice(len(shares), size=who_a.size, p=shares), home[who_a]).astype(np.int8)
    return who_a, when_a, chan


def build_pool(rng: np.random.Generator, expected_orders: np.ndarray, params: dict) -> CustomerPool:
    """Simulate customers until their events cover the expected identified orders (C, D)."""
    n_ch, n_days = expected_orders.shape
    horizon = n_days / 365.25
    target = float(expected_orders.sum())
    shares = expected_orders.sum(axis=1) / target
    batch = int(min(max(MIN_BATCH, target / 20), MAX_BATCH))
    whos, whens, chans, n_cust, n_events = [], [], [], 0, 0
    while n_events < target:
        who, when, chan = _simulate_batch(rng, batch, horizon, params, shares)
        whos.append(who + n_cust)
        whens.append(when)
        chans.append(chan)
        n_cust += batch
        n_events += who.size
    who, chan = np.concatenate(whos), np.concatenate(chans)
    del whos, chans
    # operational time -> day, per channel, through the cumulative expected orders
    cum = np.cumsum(expected_orders, axis=1) / np.maximum(expected_orders.sum(axis=1, keepdims=True), 1e-12)
    group = np.empty(who.size, dtype=np.int32)
    offset = 0
    for when, ch in zip(whens, np.split(chan, np.cumsum([w.size for w in whens])[:-1])):
        day = np.zeros(when.size, dtype=np.int32)
        for c in range(n_ch):
            sel = ch == c
            day[sel] = np.minimum(np.searchsorted(cum[c], when[sel] / horizon, side="right"), n_days - 1)
        group[offset:offset + when.size] = ch.astype(np.int32) * n_days + day
        offset += when.size
    del whens
    order = np.lexsort((rng.random(who.size, dtype=np.float32), group))
    count = np.bincount(group, minlength=n_ch * n_days).reshape(n_ch, n_days)
    start = (np.cumsum(count.ravel()) - count.ravel()).reshape(n_ch, n_days)
    truth = dict(params, model="bgnbd_like", time_unit="year", n_customers_simulated=int(n_cust),
                 n_events_simulated=int(who.size), acquisition="uniform over [-1, T) years")
    return CustomerPool(who[order], start, count, n_cust, truth)


def customer_ids(numbers: np.ndarray, width: int = 7) -> np.ndarray:
    """Pseudonymous ids ``C0001234`` (1-based); -1 becomes None (anonymous)."""
    out = np.char.add("C", np.char.zfill((numbers + 1).astype(str), width)).astype(object)
    out[numbers < 0] = None
    return out
