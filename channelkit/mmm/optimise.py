"""Where the budget should go: the allocation that maximises expected contribution, within bounds.

Spend of channel ``c`` is its observed spend pattern scaled by ``lam_c`` (timing kept), so a
budget ``x_c = lam_c * S_c`` earns ``contribution_c(lam_c)`` on the fitted response curve. For a
total budget ``B`` (default: the current total) and bounds ``lo_c <= x_c <= hi_c`` (default 50 %
to 150 % of the current spend), SLSQP maximises ``sum_c contribution_c``; the result is then
projected exactly onto ``{sum x = B, lo <= x <= hi}`` (a bisection on a common shift), so the
constraints hold whatever the optimiser returned.

A move is advised only where the data back it: per bootstrap draw the channel's marginal ROAS
is compared with the spend-weighted marginal ROAS of the other channels; a channel may grow
only if that gap's interval lies above zero, and shrink only if it lies below. Channels without
such evidence (and channels that are not identifiable) keep their current spend (scaled with the
budget when ``B`` differs from the current total), and the rest is re-optimised. The expected
gain is the contribution of the advised allocation minus that of the current one (scaled to
``B``): the median of that difference over the bootstrap draws (bagged like the summary), with
its interval from the same draws, per channel and in total (the channels' medians need not add
up to the total's median). Without draws it is the point fit's difference and nothing is advised.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from channelkit.errors import InputError
from channelkit.mmm.model import MMMResult
from channelkit.mmm.outputs import channel_metrics, contributions

BUDGET_COLUMNS = ["channel", "spend", "reference_spend", "lower", "upper", "optimal_spend", "advised_spend",
                  "advised", "expected_gain", "gain_lo", "gain_hi"]


def project_budget(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """The point ``clip(x + t, lo, hi)`` whose sum is ``total`` (bisection on ``t``); exact sum."""
    if lo.sum() > total * (1 + 1e-12) or hi.sum() < total * (1 - 1e-12):
        raise InputError(f"the budget {total:,.2f} is outside the bounds' range {lo.sum():,.2f}..{hi.sum():,.2f}")
    a, b = float(-x.max() + lo.min() - 1), float(-x.min() + hi.max() + 1)
    for _ in range(200):
        t = (a + b) / 2
        if np.clip(x + t, lo, hi).sum() < total:
            a = t
        else:
            b = t
    out = np.clip(x + (a + b) / 2, lo, hi)
    gap = total - out.sum()  # a rounding crumb: give it to a channel with room
    room = np.flatnonzero((out + gap >= lo) & (out + gap <= hi))
    if len(room):
        out[room[0]] += gap
    return out


def _bounds(result: MMMResult, bounds, spend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    chans = result.data.channels
    if isinstance(bounds, Mapping):
        unknown = sorted(set(bounds) - set(chans))
        if unknown:
            raise InputError(f"bounds name channels {unknown} that the model does not have ({chans})")
        lo = np.array([float(bounds.get(c, (0.5 * s, 1.5 * s))[0]) for c, s in zip(chans, spend)])
        hi = np.array([float(bounds.get(c, (0.5 * s, 1.5 * s))[1]) for c, s in zip(chans, spend)])
    else:
        f_lo, f_hi = bounds
        lo, hi = f_lo * spend, f_hi * spend
    if (lo < 0).any() or (hi < lo).any():
        raise InputError(f"bounds need 0 <= lower <= upper per channel, but got {list(zip(lo, hi))}")
    return lo, hi


def _feasible_start(x0: np.ndarray, free: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """``x0`` clipped to its bounds, with the ``free`` channels (or, when they cannot, every channel
    with room) shifted so that the total is exact."""
    x = np.clip(x0, lo, hi)
    for movable in (free, hi > lo):
        rest = total - x[~movable].sum()
        if movable.any() and lo[movable].sum() <= rest * (1 + 1e-12) and rest <= hi[movable].sum() * (1 + 1e-12):
            x[movable] = project_budget(x[movable], lo[movable], hi[movable], rest)
            return x
    raise InputError(f"the budget {total:,.2f} is outside the bounds' range {lo.sum():,.2f}..{hi.sum():,.2f}")


def _maximise(result: MMMResult, free: np.ndarray, x0: np.ndarray, lo: np.ndarray, hi: np.ndarray,
              total: float, spend: np.ndarray) -> np.ndarray:
    """Best allocation of ``total`` over the channels in ``free``; the others stay at ``x0`` within
    their bounds. The result always satisfies the bounds and the total exactly."""
    x = _feasible_start(x0, free, lo, hi, total)
    free = free & (hi > lo)
    if free.sum() < 2:
        return x
    budget = total - x[~free].sum()
    idx = np.flatnonzero(free)
    spend = np.where(spend > 0, spend, 1.0)  # a channel without spend has no curve to move along
    scale = spend[idx]

    def negative(z: np.ndarray) -> float:
        lam = x / spend
        lam[idx] = z  # z = multiplier of current spend
        return -float(contributions(result, result.point, scale=lam)[idx].sum()) / max(budget, 1e-9)

    z0 = x[idx] / scale
    res = minimize(negative, z0, method="SLSQP", bounds=list(zip(lo[idx] / scale, hi[idx] / scale)),
                   constraints=[{"type": "eq", "fun": lambda z: (z * scale).sum() / budget - 1.0}],
                   options={"maxiter": 200, "ftol": 1e-10})
    cand = project_budget(res.x * scale, lo[idx], hi[idx], budget)
    if -negative(cand / scale) >= -negative(z0):
        x[idx] = cand
    return x


def optimise_budget(result: MMMResult, *, total: float | None = None,
                    bounds: tuple[float, float] | Mapping[str, tuple[float, float]] = (0.5, 1.5)) -> pd.DataFrame:
    """Optimal and advised spend per channel with the expected gain (see the module docstring).

    ``bounds``: ``(low, high)`` multipliers of each channel's current spend (default 0.5-1.5), or
    ``{channel: (lower, upper)}`` in money. Columns :data:`BUDGET_COLUMNS`; ``expected_gain`` per
    channel is its change in contribution under the advised allocation, and ``frame.attrs``
    holds the total ``expected_gain``, ``gain_lo`` and ``gain_hi`` at the result's level."""
    spend = result.data.spend.sum(0)
    current = float(spend.sum())
    total = current if total is None else float(total)
    if not np.isfinite(total) or total <= 0:
        raise InputError(f"`total` must be a positive budget, but got {total}")
    ref = spend * total / current
    lo, hi = _bounds(result, bounds, spend)
    ok = np.array([s == "ok" for s in result.status])
    lo_eff, hi_eff = np.where(ok, lo, ref), np.where(ok, hi, ref)
    optimal = _maximise(result, ok, ref, lo_eff, hi_eff, total, spend)
    advised_mask = _evidence(result, ok, optimal - ref)
    advised = _maximise(result, advised_mask, ref, lo_eff, hi_eff, total, spend)
    gains = _gains(result, advised / spend, ref / spend)
    tail = (100 - result.level) / 2
    draws = gains[1:]
    # bagged like the summary: the median over the refits (the point fit's gain without refits)
    point = np.median(draws, axis=0) if len(draws) else gains[0]
    lo_g, hi_g = (np.percentile(draws, [tail, 100 - tail], axis=0) if len(draws)
                  else (np.full(len(spend), np.nan),) * 2)
    out = pd.DataFrame({"channel": result.data.channels, "spend": spend, "reference_spend": ref, "lower": lo_eff,
                        "upper": hi_eff, "optimal_spend": optimal, "advised_spend": advised,
                        "advised": advised_mask & ~np.isclose(advised, ref), "expected_gain": point,
                        "gain_lo": lo_g, "gain_hi": hi_g})
    totals = draws.sum(1) if len(draws) else np.array([np.nan])
    total_gain = float(np.median(totals)) if len(draws) else float(point.sum())
    out.attrs.update(expected_gain=total_gain, gain_lo=float(np.percentile(totals, tail)),
                     gain_hi=float(np.percentile(totals, 100 - tail)), total=total, level=result.level)
    return out[BUDGET_COLUMNS]


def _evidence(result: MMMResult, ok: np.ndarray, move: np.ndarray) -> np.ndarray:
    """Channels whose move direction is backed by the interval of their marginal-ROAS gap."""
    if not result.draws:
        return np.zeros(len(ok), dtype=bool)
    spend = result.data.spend.sum(0)
    tail = (100 - result.level) / 2
    gaps = []
    for fit in result.draws:
        m = channel_metrics(result, fit)["mroas"].to_numpy()
        gap = np.full(len(m), np.nan)
        for c in np.flatnonzero(ok):
            others = ok.copy()
            others[c] = False
            if others.any():
                gap[c] = m[c] - np.average(m[others], weights=spend[others])
        gaps.append(gap)
    lo, hi = np.nanpercentile(np.vstack(gaps), [tail, 100 - tail], axis=0) if ok.sum() > 1 else (None, None)
    if lo is None:
        return np.zeros(len(ok), dtype=bool)
    return ok & (((move > 0) & (lo > 0)) | ((move < 0) & (hi < 0)))


def _gains(result: MMMResult, lam_new: np.ndarray, lam_ref: np.ndarray) -> np.ndarray:
    """Change in contribution per channel, point fit first then every draw (rows)."""
    fits = [result.point, *result.draws]
    return np.vstack([contributions(result, f, scale=lam_new) - contributions(result, f, scale=lam_ref)
                      for f in fits])
