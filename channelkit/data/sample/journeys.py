"""The sample retailer's customer journeys (touchpoints) and the attribution ground truth.

Generative model (``model = "markov_chain"``)
---------------------------------------------
A journey is a walk on a first-order Markov chain over the marketing channels, the model that
graph-based attribution assumes (Anderl et al. 2016; the ChannelAttribution package):

* the first touch comes from channel ``c`` with probability ``reach_c / sum(reach)``;
* after a touch on ``c`` the visitor buys with probability ``convert_c``, leaves for good with
  probability ``drop_c``, or is reached again: by ``c`` itself with share ``repeat_c`` of the
  remaining mass (a repeated touch), otherwise by ``d != c`` with weight
  ``reach_d * exp(2 * (stage_d - stage_c))``, so display, social and KOL open journeys and
  search, affiliates and direct close them, as in real funnels.

About two thirds of journeys touch one channel and converting journeys average ~1.8 touches.
Converting journeys are attached to real orders: their touches lie before the order time, within
``LOOKBACK_DAYS`` and after the customer's previous order. Non-converting journeys belong to
visitor ids (``V0000001`` ...) that never order, so building journeys back from the tables cannot
mislink them.

The ground truth
----------------
In this world a touch is what brings the visitor along: if channel ``c`` were switched off, a
visitor about to be reached by ``c`` is not reached and the journey ends without a sale. The
counterfactual game is therefore

    v(S) = P(the chain converts while only touching channels in S)    (v(empty) = 0),

computed exactly from the known chain (a linear solve per coalition). The true contribution of
a channel is its exact Shapley value in that game, the efficient split of all conversions:

    true_share_c = phi_c(v) / v(N),    true_conversions_c = n_journeys * phi_c(v).

``removal_effect_c = 1 - v(N minus c) / v(N)`` (the share of conversions lost when ``c`` alone
is switched off) is stored too.

Why both reference estimators are consistent for this truth
-----------------------------------------------------------
* **Shapley (Zhao et al. 2018).** A journey converts "within coalition S" exactly when all its
  channels lie in S, so ``v(S)`` is estimated without bias by the conversions of journeys whose
  channel set is a subset of S, per journey: the coalition conversion rate of the path table.
  Its Shapley value is the simplified formula ``sum_{T contains c} conversions(T) / |T|``, so
  the estimator converges to the truth itself.
* **Markov removal effects (order 1).** The data *are* a first-order chain (collapsing repeated
  touches, as the package does, leaves its embedded chain, also first-order and with the same
  removal effects), so the fitted transition matrix converges to the true one and the removal
  effects to ``removal_effect``.
  Normalised removal effects are not Shapley values: a conversion whose path holds k channels
  gives each of them full credit before rescaling, instead of 1/k. The two agree exactly for
  one-channel journeys and differ only through how path length varies between channels; with
  the journey lengths here that is about 2 percentage points (``max_share_gap_markov`` in
  the truth), inside the 5-point tolerance the attribution tests check. A noisy-OR world (a
  channel raises the conversion chance but the visit happens anyway) was rejected: there the
  Markov assumption that removing a channel removes its paths is false, and on simulated data
  its shares were 13 points off while Shapley on coalition rates was right.
* Last touch is biased by design of real funnels, not of this generator: closers (direct,
  search) collect the conversions that openers (display, social, KOL) started.

Size: a journey has ~1.7 touches; the converting ones (~12 %) need one eligible order each (an
order with a customer and at least an hour since the customer's previous order). When there are
fewer eligible orders, journeys are thinned at random, converting and non-converting alike at
the same rate, so the truth stays unbiased; ``truth["n_journeys"]`` records what was kept.
Simulation is vectorised over journeys (a million take seconds) and deterministic given ``rng``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd

LOOKBACK_DAYS = 14
MIN_WINDOW_S = 3600  # an order needs an hour since the customer's previous order to carry a journey
MAX_TOUCHES = 60  # a walk still running after this many touches ends without a sale (prob < 1e-20)
STAGE_SLOPE = 2.0
MEAN_SPAN_S = 3 * 86400  # mean span from first to last touch of a multi-touch journey
MEAN_GAP_S = 6 * 3600  # mean time from the last touch to the order
EXACT_MAX_CHANNELS = 15  # exact Shapley over 2^C coalitions up to here, permutation sampling above

# channel -> (reach, convert, drop, stage in [0, 1], repeat share of the continuing mass)
CHANNEL_DEFAULTS: dict[str, tuple[float, float, float, float, float]] = {
    "search": (1.00, 0.100, 0.50, 0.70, 0.3),
    "social": (0.90, 0.030, 0.55, 0.35, 0.3),
    "kol": (0.50, 0.110, 0.45, 0.30, 0.2),
    "email_sms": (0.35, 0.045, 0.45, 0.60, 0.6),
    "affiliate": (0.25, 0.060, 0.55, 0.85, 0.1),
    "display": (0.80, 0.004, 0.60, 0.15, 0.4),
    "direct": (0.55, 0.130, 0.50, 0.90, 0.3),
}
PARAM_COLUMNS = ["reach", "convert", "drop", "stage", "repeat"]


def channel_parameters(channels: Sequence[str], rng: np.random.Generator) -> pd.DataFrame:
    """Per-channel chain parameters (:data:`PARAM_COLUMNS`), indexed by channel.

    Known channel ids take :data:`CHANNEL_DEFAULTS`; any other id draws reach U(0.3, 1),
    convert U(0.01, 0.12), drop U(0.4, 0.6), stage U(0.1, 0.9) and repeat U(0.1, 0.5) from ``rng``.
    """
    rows = []
    for ch in channels:
        if ch in CHANNEL_DEFAULTS:
            rows.append(CHANNEL_DEFAULTS[ch])
        else:
            rows.append((rng.uniform(0.3, 1.0), rng.uniform(0.01, 0.12), rng.uniform(0.4, 0.6),
                         rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.5)))
    return pd.DataFrame(rows, index=pd.Index(list(channels), name="channel"), columns=PARAM_COLUMNS)


def chain(params: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(start, moves, convert)``: start probabilities, channel-to-channel move probabilities
    (rows sum to ``1 - convert - drop``) and the conversion probability after a touch."""
    reach, conv, drop, stage, rep = (params[c].to_numpy(float) for c in PARAM_COLUMNS)
    weight = reach[None, :] * np.exp(STAGE_SLOPE * (stage[None, :] - stage[:, None]))
    np.fill_diagonal(weight, 0.0)
    weight /= weight.sum(axis=1, keepdims=True)
    cont = 1.0 - conv - drop
    moves = (cont * (1.0 - rep))[:, None] * weight
    moves[np.diag_indices_from(moves)] += cont * rep
    return reach / reach.sum(), moves, conv


def coalition_value(members: Sequence[int], start: np.ndarray, moves: np.ndarray, convert: np.ndarray) -> float:
    """``v(S)``: probability that the chain converts while touching only channels in ``members``.

    Moves to channels outside S end the journey: ``v(S) = start_S . (I - M_SS)^-1 convert_S``.
    """
    idx = list(members)
    if not idx:
        return 0.0
    sub = moves[np.ix_(idx, idx)]
    return float(start[idx] @ np.linalg.solve(np.eye(len(idx)) - sub, convert[idx]))


def true_shapley(start: np.ndarray, moves: np.ndarray, convert: np.ndarray,
                 rng: np.random.Generator, *, n_permutations: int = 20000) -> np.ndarray:
    """Shapley values of the chain's coalition game ``v`` (exact up to ``EXACT_MAX_CHANNELS``).

    ``phi_c = sum_{S without c} |S|! (C - |S| - 1)! / C! * (v(S + c) - v(S))``; above the exact
    limit, the mean marginal contribution over ``n_permutations`` random orders drawn from ``rng``.
    """
    n = len(start)
    if n > EXACT_MAX_CHANNELS:
        phi = np.zeros(n)
        for _ in range(n_permutations):
            prev, chosen = 0.0, []
            for c in rng.permutation(n):
                chosen.append(int(c))
                val = coalition_value(chosen, start, moves, convert)
                phi[c] += val - prev
                prev = val
        return phi / n_permutations
    value = {s: coalition_value(s, start, moves, convert)
             for k in range(n + 1) for s in combinations(range(n), k)}
    phi = np.zeros(n)
    for s, v_s in value.items():
        w = factorial(len(s)) * factorial(n - len(s) - 1) / factorial(n) if len(s) < n else 0.0
        for c in set(range(n)) - set(s):
            phi[c] += w * (value[tuple(sorted(s + (c,)))] - v_s)
    return phi


def _walk(rng: np.random.Generator, start: np.ndarray, moves: np.ndarray, convert: np.ndarray,
          n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate ``n`` walks, vectorised over journeys. Returns (touch journey, touch channel, converted)."""
    n_ch = len(start)
    drop_cum = convert + (1.0 - convert - moves.sum(axis=1))
    move_cum = np.cumsum(moves, axis=1) + drop_cum[:, None]
    state = np.searchsorted(np.cumsum(start), rng.random(n) * start.sum(), side="right").clip(max=n_ch - 1)
    alive = np.arange(n)
    converted = np.zeros(n, dtype=bool)
    tj, tc = [], []
    for _ in range(MAX_TOUCHES):
        if alive.size == 0:
            break
        tj.append(alive)
        tc.append(state)
        u = rng.random(alive.size)
        converted[alive[u < convert[state]]] = True
        go_on = u >= drop_cum[state]
        nxt = (u[go_on, None] >= move_cum[state[go_on]]).sum(axis=1).clip(max=n_ch - 1)
        alive, state = alive[go_on], nxt
    tj_all, tc_all = np.concatenate(tj), np.concatenate(tc)
    order = np.argsort(tj_all, kind="stable")  # steps were appended in order, so stable keeps them
    return tj_all[order], tc_all[order], converted


def _eligible_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per order with a customer: order_ts, customer_id and the free window in seconds."""
    o = orders.loc[orders["customer_id"].notna(), ["order_id", "customer_id", "order_ts"]]
    o = o.drop_duplicates("order_id").copy()
    o["order_ts"] = pd.to_datetime(o["order_ts"])
    o = o.sort_values(["customer_id", "order_ts", "order_id"], kind="stable")
    prev = o.groupby("customer_id", sort=False)["order_ts"].shift()
    t = o["order_ts"].astype("int64").to_numpy() // 10**9
    p = prev.fillna(pd.Timestamp("1970-01-01")).astype("int64").to_numpy() // 10**9
    window = np.minimum(t - np.where(prev.isna().to_numpy(), 0, p + 1), LOOKBACK_DAYS * 86400 - 60)
    o["t"] = t
    o["window"] = window
    return o.loc[o["window"] >= MIN_WINDOW_S].reset_index(drop=True)


def _thin(rng: np.random.Generator, converted: np.ndarray, capacity: int) -> np.ndarray:
    """Indices of journeys kept so that at most ``capacity`` convert (same rate for every journey)."""
    n_conv = int(converted.sum())
    if n_conv <= capacity:
        return np.arange(len(converted))
    frac = capacity / n_conv
    conv_idx = np.flatnonzero(converted)
    null_idx = np.flatnonzero(~converted)
    keep_c = rng.choice(conv_idx, size=capacity, replace=False)
    keep_n = rng.choice(null_idx, size=int(round(frac * len(null_idx))), replace=False)
    return np.sort(np.concatenate([keep_c, keep_n]))


def _touch_times(rng: np.random.Generator, tj: np.ndarray, end_s: np.ndarray, room_s: np.ndarray) -> np.ndarray:
    """Epoch seconds of every touch: strictly increasing within a journey, none after ``end_s``.

    A journey with ``n`` touches spans ``min(Exp(MEAN_SPAN_S), room_s - n)`` seconds (0 for one touch).
    """
    n_touch = np.bincount(tj, minlength=len(end_s))
    span = np.where(n_touch > 1, rng.exponential(MEAN_SPAN_S, size=len(end_s)), 0.0)
    span = np.clip(np.minimum(span, room_s - n_touch), 0, None).astype(np.int64)
    u = rng.random(len(tj))
    u = u[np.lexsort((u, tj))]  # sorted within each journey (tj is grouped)
    first = np.concatenate([[0], np.cumsum(n_touch)[:-1]])
    pos = np.arange(len(tj)) - first[tj]
    start = end_s[tj] - span[tj] - (n_touch[tj] - 1)
    return start + np.floor(u * span[tj]).astype(np.int64) + pos


def make_journeys(rng: np.random.Generator, *, channels: Sequence[str], orders: pd.DataFrame,
                  n_journeys: int, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """Draw ``n_journeys`` journeys over ``channels`` and attach the converting ones to ``orders``.

    Returns ``(touchpoints, truth)``: touchpoints with columns ``customer_id, ts, channel`` (unique
    per customer x ts x channel, sorted) and the truth stored in ``truth.json["attribution"]``
    (see the module docstring for the model and the definition of ``true_share``).
    ``orders`` needs ``order_id, customer_id, order_ts``; rows without a customer are ignored.
    """
    channels = list(channels)
    params = channel_parameters(channels, rng)
    p_start, moves, convert = chain(params)
    tj, tc, converted = _walk(rng, p_start, moves, convert, int(n_journeys))
    eligible = _eligible_orders(orders)
    keep = _thin(rng, converted, len(eligible))
    new_id = np.full(len(converted), -1)
    new_id[keep] = np.arange(len(keep))
    in_kept = new_id[tj] >= 0
    tj, tc, converted = new_id[tj[in_kept]], tc[in_kept], converted[keep]

    n_conv = int(converted.sum())
    chosen = eligible.iloc[rng.permutation(len(eligible))[:n_conv]]
    lo = int(pd.Timestamp(start).value // 10**9) + LOOKBACK_DAYS * 86400
    hi = max(int(pd.Timestamp(end).value // 10**9), lo + 1)
    end_s = rng.integers(lo, hi, size=len(keep)).astype(np.int64)
    room = np.full(len(keep), LOOKBACK_DAYS * 86400 - 60, dtype=np.int64)
    conv_idx = np.flatnonzero(converted)
    window = chosen["window"].to_numpy()
    gap = np.minimum(rng.exponential(MEAN_GAP_S, size=n_conv), window / 4).astype(np.int64)
    end_s[conv_idx] = chosen["t"].to_numpy() - gap
    room[conv_idx] = window - gap

    ids = np.char.add("V", np.char.zfill(np.arange(1, len(keep) + 1).astype(str), 7)).astype(object)
    ids[conv_idx] = chosen["customer_id"].astype(str).to_numpy()
    ts = _touch_times(rng, tj, end_s, room)
    touchpoints = pd.DataFrame({
        "customer_id": ids[tj],
        "ts": pd.to_datetime(ts, unit="s"),
        "channel": np.asarray(channels, dtype=object)[tc],
    }).sort_values(["customer_id", "ts", "channel"], kind="stable", ignore_index=True)
    return touchpoints, _truth(channels, params, p_start, moves, convert, rng, len(keep), n_conv, n_journeys)


def _truth(channels: list[str], params: pd.DataFrame, p_start: np.ndarray, moves: np.ndarray,
           convert: np.ndarray, rng: np.random.Generator, n_kept: int, n_conv: int, n_requested: int) -> dict:
    """The ``truth.json["attribution"]`` entry (all plain floats)."""
    phi = true_shapley(p_start, moves, convert, rng)
    total = coalition_value(range(len(channels)), p_start, moves, convert)
    removal = np.array([1.0 - coalition_value([d for d in range(len(channels)) if d != c], p_start, moves,
                                              convert) / total for c in range(len(channels))])
    share = phi / phi.sum()
    as_dict = lambda values: {c: float(v) for c, v in zip(channels, values)}  # noqa: E731
    return {
        "model": "markov_chain",
        "base_rate": 0.0,
        "channel_effect": as_dict(params["convert"]),
        "channel_parameters": {c: {k: float(v) for k, v in params.loc[c].items()} for c in channels},
        "true_share": as_dict(share),
        "true_conversions": as_dict(phi * n_kept),
        "removal_effect": as_dict(removal),
        "max_share_gap_markov": float(np.abs(removal / removal.sum() - share).max()),
        "conversion_probability": float(total),
        "share_definition": "Shapley value of v(S) = P(convert touching only channels in S), v(empty) = 0, "
                            "of the generating Markov chain (see channelkit.data.sample.journeys)",
        "lookback_days": LOOKBACK_DAYS,
        "n_journeys_requested": int(n_requested),
        "n_journeys": int(n_kept),
        "n_conversions": int(n_conv),
    }
