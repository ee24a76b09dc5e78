"""BG/NBD and Gamma-Gamma log-likelihoods and their analytic gradients.

The closed forms of Fader, Hardie & Lee (2005) and Fader & Hardie (2013), written as the
reference implementation lifetimes writes them, so maximum-likelihood fits (``clv.fit_clv``)
reproduce the published CDNOW estimates. Pure numpy/scipy functions of parameter tuples and
per-customer arrays; one row per customer in, one value (or gradient row) per customer out.
"""
from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6; lifetimes' A1..A4).

    ``ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4))`` with ``A1 = lnΓ(r+x) - lnΓ(r) + r ln α``,
    ``A2 = ln B(a, b+x) - ln B(a, b)``, ``A3 = -(r+x) ln(α+T)`` and
    ``A4 = ln a - ln(b+x-1) - (r+x) ln(α+t_x)``, summed stably with ``logaddexp``.
    """
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x)
    return a1 + a2 + np.logaddexp(a3, np.where(x > 0, a4, -np.inf))


def bgnbd_gradient(params, x, t_x, T) -> np.ndarray:
    """d ln L / d(r, alpha, a, b) per customer (rows), from the A1..A4 terms above."""
    r, alpha, a, b = params
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(x > 0, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    w4 = np.exp(a4 - np.logaddexp(a3, a4))  # share of the "dropped out after t_x" term
    w3 = 1 - w4
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w4 / (b + np.maximum(x, 1) - 1)
    return np.column_stack([d_r, d_alpha, d_a, d_b])


def gamma_gamma_log_likelihood(params, x, m) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend ``m`` of ``x`` purchases.

    Fader & Hardie (2013), eq. 3 (lifetimes' ``GammaGammaFitter``):
    ``lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(v + x m)``.
    """
    p, q, v = params
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v) + (p * x - 1) * np.log(m)
            + p * x * np.log(x) - (p * x + q) * np.log(v + x * m))


def gamma_gamma_gradient(params, x, m) -> np.ndarray:
    """d ln L / d(p, q, v) per customer (rows)."""
    p, q, v = params
    log_vxm = np.log(v + x * m)
    d_p = x * (digamma(p * x + q) - digamma(p * x) + np.log(m) + np.log(x) - log_vxm)
    d_q = digamma(p * x + q) - digamma(q) + np.log(v) - log_vxm
    return np.column_stack([d_p, d_q, q / v - (p * x + q) / (v + x * m)])
