"""Group-sequential boundaries: what repeated looks at a running test do to its false-positive rate.

Looks happen at information fractions t_1 < ... < t_K <= 1 (share of the planned sample seen).
Under H0 the z statistics of the looks are a Brownian motion read at those times:
corr(Z_i, Z_j) = sqrt(t_i / t_j). The probability of crossing a boundary at some look is computed by
the recursive numerical integration of Armitage, McPherson and Rowe (1969), as in Jennison and
Turnbull (2000, ch. 19): the density of W_k = Z_k sqrt(t_k) on a grid inside the continuation
region is convolved with the normal increment N(theta dt, dt) from one look to the next.

Alpha spending (Lan and DeMets, 1983) spends alpha*(t) by time t, two-sided:
- ``obrien-fleming``: alpha*(t) = 4 - 4 Phi(z_{1-alpha/4} / sqrt(t)), i.e. the one-sided O'Brien-Fleming
  form 2 - 2 Phi(z_{1-a/2} / sqrt(t)) spending a = alpha/2 on each side, the convention of gsDesign,
  ldbounds and SAS SEQDESIGN (strict early, near nominal at the end: 5 equal looks at alpha 0.05
  give 4.877, 3.357, 2.680, 2.290, 2.031);
- ``pocock``: alpha*(t) = alpha ln(1 + (e - 1) t) (flat boundaries).
Boundary k solves P(first crossing at look k) = alpha*(t_k) - alpha*(t_{k-1}).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import optimize, stats

from channelkit.errors import InputError
from channelkit.experiments._checks import check_alpha

Spending = Literal["obrien-fleming", "pocock"]
_MAX_BOUND = 40.0


def spending_function(t: np.ndarray | float, *, alpha: float = 0.05, spending: Spending = "obrien-fleming"
                      ) -> np.ndarray:
    """Cumulative two-sided alpha spent by information fraction ``t`` (Lan-DeMets forms above)."""
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    if spending == "obrien-fleming":
        with np.errstate(divide="ignore"):
            return np.where(t > 0, 4 * stats.norm.sf(stats.norm.isf(alpha / 4) / np.sqrt(t)), 0.0)
    if spending == "pocock":
        return alpha * np.log1p((np.e - 1) * t)
    raise InputError(f"`spending` must be 'obrien-fleming' or 'pocock', but got {spending!r}")


def _check_times(times: np.ndarray | list[float]) -> np.ndarray:
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or len(t) == 0 or np.any(t <= 0) or np.any(np.diff(t) <= 0):
        raise InputError(f"`times` must be increasing information fractions > 0, but got {t[:5].tolist()}")
    return t


class _Recursion:
    """State of the recursive integration: point masses of W at the previous look's grid."""

    def __init__(self, drift: float) -> None:
        self.drift, self.t = drift, 0.0
        self.points, self.mass = np.zeros(1), np.ones(1)

    def cross(self, t: float, c: float) -> float:
        """P(|W(t)| >= c and no earlier crossing); c is the boundary on the W scale."""
        delta = t - self.t
        mean, sd = self.points + self.drift * delta, np.sqrt(delta)
        tail = stats.norm.sf((c - mean) / sd) + stats.norm.cdf((-c - mean) / sd)
        return float(np.dot(self.mass, tail))

    def advance(self, t: float, c: float, min_delta: float) -> None:
        """Move the continuation density to look time ``t`` with region (-c, c)."""
        delta = t - self.t
        sd = np.sqrt(delta)
        centre, spread = self.drift * t, 10 * np.sqrt(t)
        lo, hi = max(-c, centre - spread), min(c, centre + spread)
        n = int(np.clip(np.ceil((hi - lo) / (np.sqrt(min_delta) / 8)), 200, 2000)) // 2 * 2 + 1
        x = np.linspace(lo, hi, n)
        weights = np.full(n, 2.0)
        weights[1::2], weights[[0, -1]] = 4.0, 1.0
        weights *= (x[1] - x[0]) / 3  # Simpson's rule
        kernel = stats.norm.pdf((x[:, None] - self.points[None, :] - self.drift * delta) / sd) / sd
        self.points, self.mass, self.t = x, weights * (kernel @ self.mass), t


def crossing_probability(times: np.ndarray | list[float], boundaries: np.ndarray | list[float], *,
                         drift: float = 0.0) -> np.ndarray:
    """P(the test first crosses |Z_k| >= b_k at look k), for each look.

    ``drift`` is E[Z] at t = 1 (0 under H0; the power of a design is the sum at the design drift).
    """
    t = _check_times(times)
    b = np.broadcast_to(np.asarray(boundaries, dtype=float), t.shape)
    rec, min_delta, out = _Recursion(drift), float(np.min(np.diff(np.r_[0.0, t]))), np.zeros(len(t))
    for k, (tk, bk) in enumerate(zip(t, b)):
        c = bk * np.sqrt(tk)
        out[k] = rec.cross(tk, c)
        if k + 1 < len(t):
            rec.advance(tk, c, min_delta)
    return out


def spending_boundaries(times: np.ndarray | list[float], *, alpha: float = 0.05,
                        spending: Spending = "obrien-fleming") -> np.ndarray:
    """Two-sided z boundaries b_k at the looks ``times`` that spend ``alpha`` by ``spending``.

    A look whose alpha increment is below 1e-12 gets the boundary 40 (it can never be crossed).
    """
    check_alpha(alpha)
    t = _check_times(times)
    spent = spending_function(t, alpha=alpha, spending=spending)
    increments = np.diff(np.r_[0.0, spent])
    rec, min_delta, out = _Recursion(0.0), float(np.min(np.diff(np.r_[0.0, t]))), np.zeros(len(t))
    for k, (tk, inc) in enumerate(zip(t, increments)):
        if inc < 1e-12 or rec.cross(tk, _MAX_BOUND * np.sqrt(tk)) >= inc:
            out[k] = _MAX_BOUND
        else:
            out[k] = optimize.brentq(lambda b: rec.cross(tk, b * np.sqrt(tk)) - inc, 0.0, _MAX_BOUND,
                                     xtol=1e-8)
        if k + 1 < len(t):
            rec.advance(tk, out[k] * np.sqrt(tk), min_delta)
    return out


def naive_peeking_alpha(times: np.ndarray | list[float], *, alpha: float = 0.05) -> float:
    """The real false-positive rate of stopping at the first look with p < ``alpha`` (|Z| >= z_{1-alpha/2}).

    For 5 equally spaced looks at alpha 0.05 it is about 0.142 (Armitage et al. 1969).
    """
    check_alpha(alpha)
    t = _check_times(times)
    return float(crossing_probability(t, np.full(len(t), stats.norm.isf(alpha / 2))).sum())
