"""BG/NBD and Gamma-Gamma log-likelihoods and their analytic gradients.

The closed forms of Fader, Hardie & Lee (2005) and Fader & Hardie (2013), written as the
reference implementation lifetimes writes them, so maximum-likelihood fits (``clv.fit_clv``)
reproduce the published CDNOW estimates. Pure numpy/scipy functions of parameter tuples and
per-customer arrays; one row per customer in, one value (or gradient row) per customer out.

Any data argument may also be a :class:`Coded` column (distinct values + an index per row):
terms that depend on one column only (``lnΓ(r+x)``, ``ln(α+T)``, ...) are then evaluated once
per distinct value and gathered, which gives the same numbers and makes each likelihood
evaluation several times cheaper for millions of customers, who share few distinct ``x`` and
``T`` values.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from scipy.special import digamma, gammaln


class Coded(NamedTuple):
    """A column as its distinct values and, per row, the index of its value."""

    values: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, column: np.ndarray) -> "Coded":
        values, index = np.unique(column, return_inverse=True)
        return cls(values, index.reshape(-1))


def _each(func: Callable[[np.ndarray], np.ndarray], column) -> np.ndarray:
    """``func(column)`` per row, evaluated once per distinct value when ``column`` is :class:`Coded`."""
    return func(column.values)[column.index] if isinstance(column, Coded) else func(column)


def _rows(column) -> np.ndarray:
    return column.values[column.index] if isinstance(column, Coded) else column


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6; lifetimes' A1..A4).

    ``ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4))`` with ``A1 = lnΓ(r+x) - lnΓ(r) + r ln α``,
    ``A2 = ln B(a, b+x) - ln B(a, b)``, ``A3 = -(r+x) ln(α+T)`` and
    ``A4 = ln a - ln(b+x-1) - (r+x) ln(α+t_x)``, summed stably with ``logaddexp``.
    """
    r, alpha, a, b = params
    xs = _rows(x)
    a1 = _each(lambda v: gammaln(r + v) - gammaln(r) + r * np.log(alpha), x)
    a2 = _each(lambda v: gammaln(a + b) + gammaln(b + v) - gammaln(b) - gammaln(a + b + v), x)
    a3 = -(r + xs) * _each(lambda v: np.log(alpha + v), T)
    a4 = _each(lambda v: np.log(a) - np.log(b + np.maximum(v, 1) - 1), x) \
        - (r + xs) * _each(lambda v: np.log(alpha + v), t_x)
    return a1 + a2 + np.logaddexp(a3, np.where(xs > 0, a4, -np.inf))


def bgnbd_gradient(params, x, t_x, T) -> np.ndarray:
    """d ln L / d(r, alpha, a, b) per customer (rows), from the A1..A4 terms above."""
    r, alpha, a, b = params
    xs = _rows(x)
    log_at, log_atx = _each(lambda v: np.log(alpha + v), T), _each(lambda v: np.log(alpha + v), t_x)
    a3 = -(r + xs) * log_at
    a4 = np.where(xs > 0, _each(lambda v: np.log(a) - np.log(b + np.maximum(v, 1) - 1), x) - (r + xs) * log_atx,
                  -np.inf)
    w4 = np.exp(a4 - np.logaddexp(a3, a4))  # share of the "dropped out after t_x" term
    w3 = 1 - w4
    d_r = _each(lambda v: digamma(r + v) - digamma(r) + np.log(alpha), x) - w3 * log_at - w4 * log_atx
    d_alpha = r / alpha - (r + xs) * (w3 / _each(lambda v: alpha + v, T) + w4 / _each(lambda v: alpha + v, t_x))
    d_a = _each(lambda v: digamma(a + b) - digamma(a + b + v), x) + w4 / a
    d_b = _each(lambda v: digamma(a + b) + digamma(b + v) - digamma(b) - digamma(a + b + v), x) \
        - w4 / _each(lambda v: b + np.maximum(v, 1) - 1, x)
    return np.column_stack([d_r, d_alpha, d_a, d_b])


def gamma_gamma_log_likelihood(params, x, m) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend ``m`` of ``x`` purchases.

    Fader & Hardie (2013), eq. 3 (lifetimes' ``GammaGammaFitter``):
    ``lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(v + x m)``.
    """
    p, q, v = params
    xs, ms = _rows(x), _rows(m)
    return (_each(lambda u: gammaln(p * u + q) - gammaln(p * u) - gammaln(q) + q * np.log(v), x)
            + (p * xs - 1) * _each(np.log, m) + _each(lambda u: p * u * np.log(u), x)
            - (p * xs + q) * np.log(v + xs * ms))


def gamma_gamma_gradient(params, x, m) -> np.ndarray:
    """d ln L / d(p, q, v) per customer (rows)."""
    p, q, v = params
    xs, ms = _rows(x), _rows(m)
    log_vxm = np.log(v + xs * ms)
    d_p = xs * (_each(lambda u: digamma(p * u + q) - digamma(p * u), x) + _each(np.log, m) + _each(np.log, x)
                - log_vxm)
    d_q = _each(lambda u: digamma(p * u + q) - digamma(q) + np.log(v), x) - log_vxm
    return np.column_stack([d_p, d_q, q / v - (p * xs + q) / (v + xs * ms)])
