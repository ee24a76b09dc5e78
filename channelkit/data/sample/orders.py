"""Turn drawn order lines into the ``orders`` table: baskets, times, ids, statuses, customers.

- Baskets: within a channel-day, lines in random order join the previous line's order with
  probability ``BASKET_CONTINUE`` (so ~18 % of lines share an order with another SKU); a basket
  never holds the same SKU twice (such a line becomes its own order).
- Time of day: drawn from a per-channel hourly profile (evening peaks online, shop hours offline),
  uniform within the hour; every line of an order shares its time.
- Order ids: channel prefix + ``YYYYMMDD`` + a 6-digit running number per channel-day
  (``TM20250611000123``), unique per channel.
- Status per order: ``cancelled`` with probability 2 %, ``refunded`` 3 %, else ``paid``.
- Customers: ``ANONYMOUS_SHARE`` of offline orders are walk-ins without a member id; every other
  order gets a customer from :class:`~channelkit.data.sample.customers.CustomerPool`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.data.sample.customers import CustomerPool, customer_ids

BASKET_CONTINUE = 0.18
CANCEL_RATE = 0.02
REFUND_RATE = 0.03
ANONYMOUS_SHARE = {"offline_stores": 0.45}
ORDER_COLUMNS = ["order_id", "sku", "order_ts", "customer_id", "channel", "units", "unit_price", "list_price",
                 "discount", "status"]

_ONLINE_HOURS = np.array([2.0, 1.0, .5, .3, .2, .3, .6, 1.2, 2.5, 4, 5, 5, 4.5, 4.2, 4.2, 4.4, 4.6, 4.8, 5, 5.8,
                          7.5, 8.5, 8.0, 5.0])
_LIVE_HOURS = np.array([2.5, 1.2, .6, .3, .2, .2, .3, .6, 1.0, 1.6, 2.2, 2.6, 3.0, 3.0, 3.0, 3.2, 3.4, 3.8, 4.6, 7,
                        10.5, 12.0, 11.0, 7.0])
_STORE_HOURS = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 6, 8, 7, 6, 6, 7, 8, 9, 10, 10, 8, 4, 0], dtype=float)
HOURLY = {"tmall": _ONLINE_HOURS, "jd": _ONLINE_HOURS, "own_app": _ONLINE_HOURS, "douyin_live": _LIVE_HOURS,
          "offline_stores": _STORE_HOURS}


def _baskets(rng: np.random.Generator, chan: np.ndarray, day: np.ndarray,
             sku: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Line order (grouped by channel-day) and the order number of each line in that order."""
    order = np.lexsort((rng.random(len(chan)), day, chan))
    c, d, s = chan[order], day[order], sku[order]
    new_group = np.r_[True, (np.diff(c) != 0) | (np.diff(d) != 0)]
    new_order = new_group | (rng.random(len(c)) >= BASKET_CONTINUE)
    number = np.cumsum(new_order) - 1
    # a basket never repeats a SKU: the repeated line becomes an order of its own
    dup = pd.DataFrame({"o": number, "s": s}).duplicated().to_numpy()
    number[dup] = number.max() + 1 + np.arange(int(dup.sum()))
    return order, number


def _times(rng: np.random.Generator, chan: np.ndarray, channels: list[str]) -> np.ndarray:
    """Seconds after midnight per order from the channel's hourly profile."""
    seconds = np.empty(len(chan), dtype=np.int64)
    for ci, ch in enumerate(channels):
        sel = np.flatnonzero(chan == ci)
        prof = HOURLY[ch] / HOURLY[ch].sum()
        hours = rng.choice(24, size=sel.size, p=prof)
        seconds[sel] = hours * 3600 + rng.integers(0, 3600, sel.size)
    return seconds


def _order_numbers(chan: np.ndarray, day: np.ndarray, seconds: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Running numbers per channel-day in time order, continuing ``counters`` (updated in place)."""
    n_days = counters.shape[1]
    group = chan * n_days + day
    order = np.lexsort((seconds, group))
    g = group[order]
    first = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    rank = np.arange(len(g)) - np.repeat(first, np.diff(np.r_[first, len(g)]))
    flat = counters.ravel()
    seq = np.empty(len(g), dtype=np.int64)
    seq[order] = flat[g] + rank + 1
    np.add.at(flat, g, 1)
    if seq.size and seq.max() >= 1_000_000:
        raise OverflowError("more than 999,999 orders on one channel-day; the order-id format cannot hold them")
    return seq


def _order_ids(chan: np.ndarray, day: np.ndarray, seq: np.ndarray, prefixes: list[str],
               dates: pd.DatetimeIndex) -> np.ndarray:
    """``prefix + YYYYMMDD + 6-digit number``, e.g. ``TM20250611000123``."""
    ymd = np.asarray(dates.strftime("%Y%m%d"))[day]
    pref = np.asarray(prefixes, dtype=object)[chan]
    return pref + ymd.astype(object) + np.char.zfill(seq.astype(str), 6).astype(object)


def build_orders(rng: np.random.Generator, *, sku_num: np.ndarray, chan: np.ndarray, day: np.ndarray,
                 units: np.ndarray, paid: np.ndarray, shelf: np.ndarray, skus: np.ndarray,
                 channels: list[str], prefixes: list[str], dates: pd.DatetimeIndex, pool: CustomerPool,
                 counters: np.ndarray, id_width: int) -> pd.DataFrame:
    """The ``orders`` rows of one block of lines (prices in cents), sorted by time and order id."""
    line_order, number = _baskets(rng, chan, day, sku_num)
    sku_num, chan, day = sku_num[line_order], chan[line_order], day[line_order]
    units, paid, shelf = units[line_order], paid[line_order], shelf[line_order]
    uniq, first_line, inverse = np.unique(number, return_index=True, return_inverse=True)
    o_chan, o_day = chan[first_line], day[first_line]
    o_sec = _times(rng, o_chan, channels)
    o_seq = _order_numbers(o_chan, o_day, o_sec, counters)
    u = rng.random(len(uniq))
    status = np.where(u < CANCEL_RATE, "cancelled", np.where(u < CANCEL_RATE + REFUND_RATE, "refunded", "paid"))
    anon_p = np.array([ANONYMOUS_SHARE.get(ch, 0.0) for ch in channels])[o_chan]
    anonymous = rng.random(len(uniq)) < anon_p
    cust = np.full(len(uniq), -1, dtype=np.int64)
    cust[~anonymous] = pool.assign(o_chan[~anonymous], o_day[~anonymous])
    # Sort lines by time, then order id, then SKU with numeric keys (string sorts are slow): the id
    # compares by prefix, then date, then the fixed-width number; SKU codes are zero-padded.
    prefix_rank = np.argsort(np.argsort(prefixes))[chan]
    o_time = o_day.astype(np.int64) * 86400 + o_sec
    line = np.lexsort((sku_num, o_seq[inverse], day, prefix_rank, o_time[inverse]))
    o_line = inverse[line]
    ts = dates.to_numpy()[o_day] + o_sec.astype("timedelta64[s]")
    return pd.DataFrame({
        "order_id": _order_ids(o_chan, o_day, o_seq, prefixes, dates)[o_line],
        "sku": skus[sku_num[line]],
        "order_ts": ts[o_line].astype("datetime64[ns]"),
        "customer_id": customer_ids(cust, id_width)[o_line],
        "channel": np.asarray(channels, dtype=object)[chan[line]],
        "units": units[line].astype(np.int64),
        "unit_price": paid[line] / 100.0,
        "list_price": shelf[line] / 100.0,
        "discount": np.round(1.0 - paid[line] / shelf[line], 4),
        "status": status[o_line],
    })
