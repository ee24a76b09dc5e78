"""Media transforms: adstock (carry-over) kernels and Hill saturation, and the candidate grid.

Adstock of a spend series ``s`` with weights ``w`` (lags 0..L-1, summing to 1)::

    x[t] = sum_l w[l] * s[t - l]        (spend before the first period counts as zero)

- ``geometric``: ``w[l] ~ alpha ** l`` (the effect is largest at once and decays);
- ``weibull`` (delayed): ``w[l] ~`` the Weibull density ``(k / lam) (l / lam)^(k-1) exp(-(l / lam)^k)``
  with shape ``k`` and scale ``lam`` periods: zero at lag 0 for ``k > 1``, peaking later.

Normalised kernels keep a yuan a yuan: the saturation sees the same total spend whatever the
carry-over. ``half_life`` is the lag by which half of a yuan's effect has arrived (kernel median,
interpolated), in periods.

Hill saturation of the adstocked spend, with half-saturation point ``K`` and slope ``n``::

    h(x) = x^n / (x^n + K^n)        in [0, 1): contribution = beta * h(x)

``K`` is given relative to the channel's mean adstocked spend over periods with spend (``k_rel``),
so one grid fits channels of any size. The default grid (:func:`candidate_grid`) is the prior:
carry-over up to ``MAX_LAG_DAYS`` and half-saturation between a quarter and three times the usual
spend level.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_LAG_DAYS = 28
GEOMETRIC_ALPHAS_DAILY = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.88)
WEIBULL_DAILY = tuple((k, lam) for k in (1.5, 2.5, 4.0) for lam in (2.0, 4.0, 7.0, 11.0))
GEOMETRIC_ALPHAS_WEEKLY = (0.0, 0.1, 0.2, 0.3, 0.45, 0.6, 0.75)
WEIBULL_WEEKLY = tuple((k, lam) for k in (1.5, 3.0) for lam in (1.0, 2.0))
HILL_K_REL = (0.25, 0.45, 0.7, 1.0, 1.5, 2.2, 3.2)
HILL_SLOPES = (1.0, 1.6, 2.5)


@dataclass(frozen=True)
class Kernel:
    """One adstock kernel: its family, parameters (in periods) and weights over lags."""

    kind: str
    params: tuple[float, ...]
    weights: np.ndarray

    @property
    def half_life(self) -> float:
        return half_life(self.weights)

    def describe(self, period_days: int) -> str:
        if self.kind == "geometric":
            return f"geometric(alpha={self.params[0]:g} per {period_days}d)"
        return f"weibull(shape={self.params[0]:g}, scale={self.params[1] * period_days:g}d)"


def geometric_weights(alpha: float, max_lag: int) -> np.ndarray:
    """``alpha ** l`` for l = 0..max_lag-1, normalised to sum 1."""
    w = float(alpha) ** np.arange(max_lag, dtype=float)
    return w / w.sum()


def weibull_weights(shape: float, scale: float, max_lag: int) -> np.ndarray:
    """The Weibull density at lags 0..max_lag-1 (shape ``k``, scale ``lam`` periods), normalised."""
    lags = np.arange(max_lag, dtype=float)
    w = (shape / scale) * (lags / scale) ** (shape - 1) * np.exp(-((lags / scale) ** shape))
    if w.sum() <= 0:  # scale far below one period: all weight at lag 0
        w = np.r_[1.0, np.zeros(max_lag - 1)]
    return w / w.sum()


def half_life(weights: np.ndarray) -> float:
    """Lag (periods) by which half of the kernel's weight has arrived; weight of lag ``l`` arrives
    uniformly over [l, l + 1), so a kernel with all weight at lag 0 has half-life 0.5."""
    cum = np.r_[0.0, np.cumsum(weights)]
    return float(np.interp(0.5, cum, np.arange(len(cum))))


def adstock(spend: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Adstocked spend ``x[t] = sum_l w[l] s[t - l]`` along axis 0 (1-D or periods x channels)."""
    spend = np.asarray(spend, dtype=float)
    if spend.ndim == 1:
        return np.convolve(spend, weights)[: len(spend)]
    return np.column_stack([np.convolve(spend[:, j], weights)[: len(spend)] for j in range(spend.shape[1])])


def hill(x: np.ndarray, half_sat: float, slope: float) -> np.ndarray:
    """``x^n / (x^n + K^n)`` (0 where x = 0)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    xn = x ** slope
    return xn / (xn + half_sat ** slope)


def hill_scale(x: np.ndarray) -> float:
    """The reference level ``K`` is relative to: mean adstocked spend over periods with spend."""
    pos = x[x > 0]
    return float(pos.mean()) if pos.size else 1.0


def kernels(period_days: int) -> list[Kernel]:
    """The adstock kernels of the default grid for a period of ``period_days`` days (1 or 7)."""
    max_lag = max_lag_periods(period_days)
    daily = period_days == 1
    out = [Kernel("geometric", (a,), geometric_weights(a, max_lag))
           for a in (GEOMETRIC_ALPHAS_DAILY if daily else GEOMETRIC_ALPHAS_WEEKLY)]
    out += [Kernel("weibull", (k, lam), weibull_weights(k, lam, max_lag))
            for k, lam in (WEIBULL_DAILY if daily else WEIBULL_WEEKLY)]
    return out


@dataclass(frozen=True)
class Candidates:
    """Every (kernel, k_rel, slope) of one channel, with the features ``h`` per period (n x J)."""

    kernel_idx: np.ndarray
    k_rel: np.ndarray
    slope: np.ndarray
    half_sat: np.ndarray  # K in spend units per candidate
    features: np.ndarray  # (n, J)


def channel_candidates(spend: np.ndarray, kernel_list: list[Kernel], *, k_rels=HILL_K_REL,
                       slopes=HILL_SLOPES) -> Candidates:
    """Saturated adstock features of one channel for every candidate of the grid."""
    kidx, krel, slp, ks, cols = [], [], [], [], []
    for i, ker in enumerate(kernel_list):
        x = adstock(spend, ker.weights)
        ref = hill_scale(x)
        for kr in k_rels:
            for n in slopes:
                kidx.append(i), krel.append(kr), slp.append(n), ks.append(kr * ref)
                cols.append(hill(x, kr * ref, n))
    return Candidates(np.array(kidx), np.array(krel, float), np.array(slp, float), np.array(ks, float),
                      np.column_stack(cols))


@dataclass(frozen=True)
class MediaParams:
    """The carry-over and saturation of one channel: kernel family and parameters (periods),
    half-saturation relative to the channel's mean adstocked spend, Hill slope."""

    kind: str
    params: tuple[float, ...]
    k_rel: float
    slope: float

    def weights(self, max_lag: int) -> np.ndarray:
        if self.kind == "geometric":
            return geometric_weights(self.params[0], max_lag)
        return weibull_weights(self.params[0], self.params[1], max_lag)

    def adstocked(self, spend: np.ndarray, max_lag: int) -> np.ndarray:
        return adstock(spend, self.weights(max_lag))

    def half_sat(self, spend: np.ndarray, max_lag: int) -> float:
        """``K`` in spend units (``k_rel`` times the mean adstocked observed spend)."""
        return self.k_rel * hill_scale(self.adstocked(spend, max_lag))

    def features(self, spend: np.ndarray, max_lag: int, *, scale_spend: float = 1.0,
                 ref_spend: np.ndarray | None = None) -> np.ndarray:
        """``h`` per period for ``scale_spend`` times the spend; ``K`` is fixed by the observed
        spend (``ref_spend``, default ``spend``) so scaling the spend moves along one curve."""
        x = self.adstocked(spend, max_lag)
        ref = x if ref_spend is None else self.adstocked(ref_spend, max_lag)
        return hill(x * scale_spend, self.k_rel * hill_scale(ref), self.slope)


def max_lag_periods(period_days: int) -> int:
    """Kernel length in periods: ``MAX_LAG_DAYS`` (one more period for weekly data)."""
    return max(2, int(np.ceil(MAX_LAG_DAYS / period_days)) + (1 if period_days > 1 else 0))
