"""Markov-chain attribution with exact removal effects (the ChannelAttribution conventions).

States (as ``markov_model`` of the ChannelAttribution package builds them)
- ``(start)``, one state per observed window of ``order`` consecutive touches, ``(conversion)``
  and ``(null)``. Order-k states are sliding windows over the raw touches (``a > b > c`` at
  order 2 gives ``(a, b), (b, c)``); a path shorter than k is one state (the whole path).
- Repeated consecutive *states* collapse into one (at order 1 ``a > a > b`` is ``a, b``).
- Each path row adds ``conversions + nulls`` to every transition along it, ``conversions`` to
  ``last -> (conversion)`` and ``nulls`` to ``last -> (null)``; rows divided by their sums give
  the transition probabilities.

Removal effects, exactly
- With transient states T (start and channel states), ``Q`` the transition probabilities among
  them and ``r`` the probabilities into ``(conversion)``, the expected visits from ``(start)`` are
  ``h = (I - Q^T)^-1 e_start`` and ``P(conversion) = h . r`` (an absorbing-chain linear solve,
  sparse LU, no simulation).
- Removing channel c deletes every state that contains c (moves into them go to ``(null)``):
  ``RE_c = 1 - P_without_c(conversion) / P(conversion)``. This is the limit that the package's
  simulation (share of simulated converting paths that visit c) converges to.
- Attributed conversions ``= RE_c / sum_d RE_d * total conversions``. Value as in the package:
  each conversion carries the mean value per conversion of its last state before
  ``(conversion)``; value removal effects use ``h . (r * m)`` in place of ``h . r`` and are
  scaled to the total value.
- The package stops each simulated walk after ``max_step`` channel states (by default one more
  than the longest observed path) and counts it as null. ``markov(..., max_step=K)`` reproduces
  that exactly (``sum_{k<=K} e Q^k r``); the default ``None`` is the untruncated chain, which
  the package approaches with a large ``max_step``. On real path tables, whose longest path is
  long, the two differ by far less than the package's simulation noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import splu

from channelkit.attribution.paths import split_path
from channelkit.errors import InputError

MAX_ORDER = 3


@dataclass(frozen=True)
class Chain:
    """A fitted absorbing chain: transient states (index 0 is ``(start)``), ``Q``, ``r`` and ``m``."""

    states: list[tuple[str, ...]]
    q: sparse.csr_matrix  # transient -> transient probabilities
    r: np.ndarray  # transient -> (conversion) probability
    m: np.ndarray  # mean value per conversion ending in each state
    channels: list[str]


def path_states(channels: list[str], order: int) -> list[tuple[str, ...]]:
    """Order-k states of one path: sliding windows, repeated consecutive states collapsed."""
    if len(channels) <= order:
        windows = [tuple(channels)]
    else:
        windows = [tuple(channels[i:i + order]) for i in range(len(channels) - order + 1)]
    return [w for i, w in enumerate(windows) if i == 0 or w != windows[i - 1]]


def fit_chain(paths: pd.DataFrame, *, order: int = 1) -> Chain:
    """Count transitions of a normalised path table and return the absorbing chain."""
    if order not in range(1, MAX_ORDER + 1):
        raise InputError(f"`order` must be 1, 2 or 3, but got {order}")
    index: dict[tuple[str, ...], int] = {("(start)",): 0}
    src, dst, weight = [], [], []
    end_state, conv_w, null_w, val_w = [], [], [], []
    for path, conv, val, null in paths[["path", "conversions", "value", "nulls"]].itertuples(index=False):
        if conv + null <= 0:
            continue
        ids = [index.setdefault(s, len(index)) for s in path_states(split_path(path), order)]
        if not ids:
            continue
        seq = [0] + ids
        src.extend(seq[:-1])
        dst.extend(seq[1:])
        weight.extend([conv + null] * len(ids))
        end_state.append(ids[-1])
        conv_w.append(conv)
        null_w.append(null)
        val_w.append(val)
    n = len(index)
    counts = sparse.coo_matrix((weight, (src, dst)), shape=(n, n)).tocsr()
    to_conv = np.bincount(end_state, weights=conv_w, minlength=n)
    to_null = np.bincount(end_state, weights=null_w, minlength=n)
    value = np.bincount(end_state, weights=val_w, minlength=n)
    out = np.asarray(counts.sum(axis=1)).ravel() + to_conv + to_null
    inv = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    q = sparse.diags(inv) @ counts
    states = sorted(index, key=index.get)
    channels = sorted({c for s in states[1:] for c in s})
    m = np.divide(value, to_conv, out=np.zeros(n), where=to_conv > 0)
    return Chain(states, q.tocsr(), to_conv * inv, m, channels)


def _absorb(chain: Chain, keep: np.ndarray, max_step: int | None = None) -> tuple[float, float]:
    """``(P(conversion), expected value)`` from ``(start)`` using only the transient states in ``keep``.

    ``max_step=None`` solves the absorbing chain; an integer sums ``e Q^k r`` for k = 1..max_step
    (walks still running after max_step channel states count as null).
    """
    idx = np.flatnonzero(keep)
    sub = chain.q[idx][:, idx]
    r = chain.r[idx]
    rv = r * chain.m[idx]
    e = np.zeros(len(idx))
    e[0] = 1.0  # (start) is always kept and first
    if max_step is None:
        h = splu(sparse.identity(len(idx), format="csc") - sub.T.tocsc()).solve(e)
        return float(h @ r), float(h @ rv)
    conv = val = 0.0
    sub_t = sub.T.tocsr()
    for _ in range(max_step):
        e = sub_t @ e
        conv += float(e @ r)
        val += float(e @ rv)
    return conv, val


def removal_effects(chain: Chain, *, max_step: int | None = None) -> pd.DataFrame:
    """Exact removal effects per channel: ``channel, removal_effect, removal_effect_value``."""
    n = len(chain.states)
    base_conv, base_val = _absorb(chain, np.ones(n, dtype=bool), max_step)
    if base_conv <= 0:
        raise InputError("the path table has no conversions: removal effects are undefined")
    rows = []
    for c in chain.channels:
        keep = np.array([i == 0 or c not in s for i, s in enumerate(chain.states)])
        conv, val = _absorb(chain, keep, max_step)
        rows.append((c, 1.0 - conv / base_conv, 1.0 - val / base_val if base_val > 0 else 0.0))
    return pd.DataFrame(rows, columns=["channel", "removal_effect", "removal_effect_value"])


def markov(paths: pd.DataFrame, *, order: int = 1, max_step: int | None = None) -> pd.DataFrame:
    """Markov attribution of a normalised path table.

    ``max_step``: ``None`` (default) for the untruncated chain; an integer stops walks after that many
    channel states, as the package's simulation does (see the module docstring).
    Returns ``channel, model, conversions, value, removal_effect`` with ``model = "markov_o{order}"``;
    conversions and value sum to the table's totals.
    """
    if max_step is not None and max_step < 1:
        raise InputError(f"`max_step` must be None or >= 1, but got {max_step}")
    chain = fit_chain(paths, order=order)
    re = removal_effects(chain, max_step=max_step)
    total_conv = float(paths["conversions"].sum())
    total_val = float(paths["value"].sum())
    s_conv, s_val = re["removal_effect"].sum(), re["removal_effect_value"].sum()
    out = pd.DataFrame({
        "channel": re["channel"],
        "model": f"markov_o{order}",
        "conversions": re["removal_effect"] / s_conv * total_conv if s_conv > 0 else 0.0,
        "value": re["removal_effect_value"] / s_val * total_val if s_val > 0 else 0.0,
        "removal_effect": re["removal_effect"],
    })
    return out


def transition_matrix(paths: pd.DataFrame, *, order: int = 1) -> pd.DataFrame:
    """Long frame ``from, to, probability`` of the fitted chain (absorbing states included)."""
    chain = fit_chain(paths, order=order)
    name = [" > ".join(s) for s in chain.states]
    q = chain.q.tocoo()
    rows = pd.DataFrame({"from": [name[i] for i in q.row], "to": [name[j] for j in q.col], "probability": q.data})
    conv = pd.DataFrame({"from": name, "to": "(conversion)", "probability": chain.r})
    out_mass = np.asarray(chain.q.sum(axis=1)).ravel() + chain.r
    null = pd.DataFrame({"from": name, "to": "(null)", "probability": 1.0 - out_mass})
    t = pd.concat([rows, conv, null], ignore_index=True)
    return t.loc[t["probability"] > 1e-12].reset_index(drop=True)
