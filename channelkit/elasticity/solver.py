"""Vectorised fixed-effects fit with series-specific price slopes (Poisson or Gaussian).

The model, on dense ``series g x period t`` arrays::

    log E[y_gt] = alpha_g + tau_g * t + eps_{s(g)} * x_gt + delta_{k(g), t} + sum_j gamma_j * z_jgt

``alpha_g`` one intercept per series, ``tau_g`` an optional linear trend per series (in years;
series grow and decline at their own pace, and an omitted series trend looks like a price effect
whenever the price drifts), ``eps`` one price slope per slope group ``s(g)`` (the
series itself, or its SKU when channels are pooled), ``delta`` period fixed effects per time
stratum ``k(g)`` (e.g. channel x date, absorbing day of week, festivals, channel-wide promotions
and trend), ``gamma`` coefficients shared by all series. ``family="poisson"`` maximises the
Poisson pseudo-likelihood (PPML); ``family="gaussian"`` is least squares on ``y = log units``.

It is solved by block-coordinate Newton steps, each a closed form over numpy reductions, the
same idea as the alternating projections of fixest/ppmlhdfe: the period effects (exact update),
the shared coefficients (Newton, with the series terms partialled out by Frisch-Waugh-Lovell), then
series terms and slopes jointly (exact block Newton: intercept and trend are concentrated out, so
the slope step uses the weighted variance of price net of the series' level and trend). A per-group loop of a fixed-effects library does the same fit one series at a time; the
tests check that this agrees with statsmodels GLM/OLS on small data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

Family = Literal["poisson", "gaussian"]
DEAD = -50.0  # log-scale value of a period effect whose cell has no sales at all (exp(-50) ~ 0)


@dataclass
class FEFit:
    """Result of :func:`fit_fe`: coefficients, linear predictor and convergence diagnostics."""

    theta: np.ndarray
    basis: np.ndarray
    eps: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    eta: np.ndarray
    n_iter: int
    converged: bool
    n_params: int
    slope_converged: np.ndarray | None = None


def _weights(y: np.ndarray, eta: np.ndarray, mask: np.ndarray, family: Family) -> tuple[np.ndarray, np.ndarray]:
    """Working weights ``w`` and score residuals ``r`` (Poisson: mu and y - mu; Gaussian: 1 and y - eta)."""
    if family == "poisson":
        mu = np.where(mask, np.exp(np.minimum(eta, 50.0)), 0.0)
        return mu, y - mu
    w = mask.astype(float)
    return w, np.where(mask, y - eta, 0.0)


def _stratum_matrix(stratum: np.ndarray | None, n_rows: int) -> sp.csr_matrix | None:
    if stratum is None:
        return None
    k = int(stratum.max()) + 1
    return sp.csr_matrix((np.ones(n_rows), (stratum, np.arange(n_rows))), shape=(k, n_rows))


def _delta_step(P: sp.csr_matrix, sum_y: np.ndarray, y: np.ndarray, w: np.ndarray, r: np.ndarray,
                delta: np.ndarray, family: Family) -> np.ndarray:
    """Change of the period effects: exact for both families given everything else."""
    sw = np.asarray(P @ w)
    if family == "poisson":
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.log(sum_y / sw)
        return np.where(sum_y > 0, np.where(sw > 0, step, 0.0), DEAD - delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sw > 0, np.asarray(P @ r) / sw, 0.0)


def _gram(w: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Inverse of each series' weighted Gram matrix of the basis, shape (G, B, B) (pinv-safe)."""
    nb = basis.shape[0]
    gram = np.empty((w.shape[0], nb, nb))
    for i in range(nb):
        for j in range(i, nb):
            gram[:, i, j] = gram[:, j, i] = w @ (basis[i] * basis[j])
    return np.linalg.pinv(gram)


def _project(v: np.ndarray, w: np.ndarray, basis: np.ndarray, ginv: np.ndarray) -> np.ndarray:
    """Per-series weighted least-squares coefficients of ``v`` on the basis, shape (G, B)."""
    bv = np.stack([(w * v) @ basis[i] for i in range(basis.shape[0])], axis=1)
    return np.einsum("gij,gj->gi", ginv, bv)


def _within(v: np.ndarray, w: np.ndarray, x: np.ndarray, slope: np.ndarray, n_slopes: int,
            basis: np.ndarray, ginv: np.ndarray) -> np.ndarray:
    """``v`` minus its w-weighted projection on the series basis terms and the group price slopes."""
    xt = x - _project(x, w, basis, ginv) @ basis
    vt = v - _project(v, w, basis, ginv) @ basis
    num = np.bincount(slope, (w * vt * xt).sum(axis=1), minlength=n_slopes + 1)
    den = np.bincount(slope, (w * xt * xt).sum(axis=1), minlength=n_slopes + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(den > 1e-12, num / den, 0.0)
    return vt - b[slope][:, None] * xt


def _gamma_step(controls: np.ndarray, w: np.ndarray, r: np.ndarray, x: np.ndarray, slope: np.ndarray,
                n_slopes: int, basis: np.ndarray) -> np.ndarray:
    """Newton step of the shared coefficients jointly with intercepts and slopes (Frisch-Waugh-Lovell).

    The controls are first residualised on the series intercepts and price slopes with the working
    weights, so the step is ``(Z~'WZ~)^-1 Z~'r`` (least squares when singular); without that, the
    controls and intercepts trade off and block steps converge very slowly.
    """
    k = controls.shape[0]
    ginv = _gram(w, basis)
    zt = np.stack([_within(controls[j], w, x, slope, n_slopes, basis, ginv) for j in range(k)])
    flat = zt.reshape(k, -1)
    grad = flat @ r.ravel()
    hess = (flat * w.ravel()[None, :]) @ flat.T  # one matrix product instead of K^2 sums
    return np.linalg.lstsq(hess, grad, rcond=None)[0]


def _slope_step(x: np.ndarray, w: np.ndarray, r: np.ndarray, slope: np.ndarray, n_slopes: int,
                max_step: float, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joint Newton step of the series terms (G, B) and the slopes, series terms concentrated out."""
    ginv = _gram(w, basis)
    bx = np.stack([(w * x) @ basis[i] for i in range(basis.shape[0])], axis=1)
    br = np.stack([r @ basis[i] for i in range(basis.shape[0])], axis=1)
    gx = np.einsum("gij,gj->gi", ginv, bx)
    num = np.bincount(slope, (r * x).sum(axis=1) - np.einsum("gi,gi->g", gx, br), minlength=n_slopes + 1)
    den = np.bincount(slope, (w * x * x).sum(axis=1) - np.einsum("gi,gi->g", gx, bx), minlength=n_slopes + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_eps = np.clip(np.where(den[:n_slopes] > 1e-12, num[:n_slopes] / den[:n_slopes], 0.0), -max_step, max_step)
    d_eps_rows = np.append(d_eps, 0.0)[slope]
    d_theta = np.einsum("gij,gj->gi", ginv, br - d_eps_rows[:, None] * bx)
    return d_theta, d_eps


def series_basis(n_periods: int, trend: bool) -> np.ndarray:
    """Per-series terms over the periods: a constant, and with ``trend`` centred time in years."""
    t = np.arange(n_periods, dtype=float)
    if not trend:
        return np.ones((1, n_periods))
    return np.vstack([np.ones(n_periods), (t - t.mean()) / 365.25])


def fit_fe(
    y: np.ndarray,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    slope: np.ndarray,
    stratum: np.ndarray | None = None,
    controls: np.ndarray | None = None,
    family: Family = "poisson",
    trend: bool = False,
    max_iter: int = 1000,
    tol: float = 1e-8,
) -> FEFit:
    """Fit the model of the module docstring; rows with ``slope == -1`` are left out.

    ``y``/``x``/``mask`` have shape ``(G, T)`` (``x`` is log price, ignored where ``mask`` is
    False); ``slope`` ``(G,)`` slope-group codes ``0..S-1``; ``stratum`` ``(G,)`` time-stratum codes
    or None for no period effects; ``controls`` ``(K, G, T)``; ``trend`` adds the series trends
    (``t`` in years of 365.25 periods from the first, centred). Stops when no coefficient moved by
    more than ``tol`` in a sweep, or after ``max_iter`` sweeps (``converged`` False).
    """
    n_slopes = int(slope.max()) + 1 if (slope >= 0).any() else 0
    mask = mask & (slope >= 0)[:, None]
    slope = np.where(slope >= 0, slope, n_slopes)
    x = np.where(mask, x, 0.0)
    y = np.where(mask, y, 0.0)
    controls = np.zeros((0, *y.shape)) if controls is None else np.where(mask[None], controls, 0.0)
    G, T = y.shape
    P = _stratum_matrix(stratum, G)
    delta = np.zeros((P.shape[0], T)) if P is not None else np.zeros((0, T))
    sum_y = np.asarray(P @ y) if P is not None else None
    n_obs = mask.sum(axis=1)
    basis = series_basis(T, trend)
    mean_y = y.sum(axis=1) / np.maximum(n_obs, 1)
    theta = np.zeros((G, basis.shape[0]))
    theta[:, 0] = np.log(np.maximum(mean_y, 1e-12)) if family == "poisson" else mean_y
    eps, gamma = np.zeros(n_slopes), np.zeros(controls.shape[0])
    eta = theta @ basis
    max_step = 1.0 if family == "poisson" else np.inf
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        change = 0.0
        if P is not None:
            w, r = _weights(y, eta, mask, family)
            d = _delta_step(P, sum_y, y, w, r, delta, family)
            delta += d
            eta += d[stratum]
            change = max(change, float(np.max(np.abs(np.where(delta > DEAD / 2, d, 0.0)), initial=0.0)))
        if controls.shape[0]:
            w, r = _weights(y, eta, mask, family)
            dg = _gamma_step(controls, w, r, x, slope, n_slopes, basis)
            gamma += dg
            eta += np.tensordot(dg, controls, axes=1)
            change = max(change, float(np.max(np.abs(dg))))
        w, r = _weights(y, eta, mask, family)
        d_theta, d_eps = _slope_step(x, w, r, slope, n_slopes, max_step, basis)
        theta += d_theta
        eps += d_eps
        eta += d_theta @ basis + np.append(d_eps, 0.0)[slope][:, None] * x
        change = max(change, float(np.max(np.abs(d_eps), initial=0.0)))
        if change < tol:
            converged = True
            break
    slope_ok = np.ones(n_slopes, dtype=bool) if converged else _settled_slopes(d_eps, eps, tol)
    n_params = int((n_obs > 0).sum()) * basis.shape[0] + n_slopes + int((delta > DEAD / 2).sum()) + gamma.size
    return FEFit(theta=theta, basis=basis, eps=eps, delta=delta, gamma=gamma, eta=eta, n_iter=it,
                 converged=converged, n_params=n_params, slope_converged=slope_ok)


MAX_SLOPE = 20.0  # |elasticity| beyond this is a slope running away (separated data), not an estimate


def _settled_slopes(d_eps: np.ndarray, eps: np.ndarray, tol: float) -> np.ndarray:
    """Per slope, after the sweeps ran out: did it settle (last step below ``sqrt(tol)``, a finite size)?

    One series whose slope runs away (its data separated: price predicts zero sales perfectly) keeps
    the whole fit from meeting ``tol``; the other slopes have settled long before and keep their
    numbers, so convergence is judged per slope, not for the fit.
    """
    return (np.abs(d_eps) < np.sqrt(tol)) & (np.abs(eps) < MAX_SLOPE)


def slope_covariance(
    y: np.ndarray,
    x: np.ndarray,
    mask: np.ndarray,
    fit: FEFit,
    *,
    slope: np.ndarray,
    stratum: np.ndarray | None = None,
    family: Family = "poisson",
) -> tuple[np.ndarray, np.ndarray]:
    """First-order robust variance of each slope, and its number of observations.

    The exact variance is :func:`.covariance.exact_slope_covariance`; this approximation, linear
    in the data, serves strata too large for it (thousands of series sharing period effects, where
    each series' share of its stratum, and so the approximation's error, is small).

    With the series terms concentrated out (``x~`` = x minus its working-weighted projection on the
    series' constant and trend) and ``s_gt = w_gt / sum_{h in stratum} w_ht`` the series' share of
    its stratum's weight on period t (the part of the period effect the series itself drives)::

        Var(eps_g) = sum_t x~^2 [r_gt^2 (1 - s_gt)^2 + s_gt^2 (R_t - r_gt^2)] / (sum_t w x~^2 (1 - s_gt))^2
                     * n / (n - p)

    the sandwich of the slope regressor partialled out of the period effects to first order
    (``R_t`` the stratum's sum of squared residuals; without period effects ``s = 0``). A series that
    dominates its stratum thus gets the wide interval it deserves. ``w``/``r`` are the working
    weights and score residuals at the optimum; ``n/(n - p)`` is the small-sample factor over all
    ``n`` observations and ``p`` parameters (fixest's default adjustment).
    """
    n_slopes = fit.eps.size
    mask = mask & (slope >= 0)[:, None]
    slope = np.where(slope >= 0, slope, n_slopes)
    x = np.where(mask, x, 0.0)
    w, r = _weights(np.where(mask, y, 0.0), fit.eta, mask, family)
    xt = np.where(mask, x - _project(x, w, fit.basis, _gram(w, fit.basis)) @ fit.basis, 0.0)
    P = _stratum_matrix(stratum, y.shape[0])
    if P is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.nan_to_num(w / np.asarray(P @ w)[stratum])
        r2_all = np.asarray(P @ (r * r))[stratum]
    else:
        share, r2_all = np.zeros_like(w), r * r
    bread_cells = w * xt ** 2 * (1 - share)
    meat_cells = xt ** 2 * (r * r * (1 - share) ** 2 + share ** 2 * (r2_all - r * r))
    bread = np.bincount(slope, bread_cells.sum(axis=1), minlength=n_slopes + 1)[:n_slopes]
    meat = np.bincount(slope, meat_cells.sum(axis=1), minlength=n_slopes + 1)[:n_slopes]
    n_total = int(mask.sum())
    adj = n_total / max(n_total - fit.n_params, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(bread > 0, meat / bread ** 2 * adj, np.nan)
    n_obs = np.bincount(slope, mask.sum(axis=1), minlength=n_slopes + 1)[:n_slopes]
    return var, n_obs


def gamma_covariance(
    y: np.ndarray,
    x: np.ndarray,
    mask: np.ndarray,
    fit: FEFit,
    *,
    slope: np.ndarray,
    controls: np.ndarray,
    stratum: np.ndarray | None = None,
    family: Family = "poisson",
    cluster: np.ndarray | None = None,
    n_sweeps: int = 200,
    hac: tuple[np.ndarray, int] | None = None,
) -> np.ndarray:
    """Robust (sandwich) covariance of the shared coefficients ``gamma``, optionally clustered.

    ``Var = (Z~'WZ~)^-1 M (Z~'WZ~)^-1`` where ``z~`` are the controls residualised on every other
    parameter (intercepts, slopes and period effects) by alternating weighted projections, as
    fixest does, and ``w``/``r`` are the working weights and residuals. Without ``cluster``
    (heteroskedasticity-robust, errors independent across cells) ``M = sum r^2 z~ z~' * n/(n - p)``.
    ``cluster`` may also be ``(G, T)``, one code per cell (e.g. SKU x block of periods; then no
    parameter counts as nested). With ``cluster`` (``(G,)`` cluster code per series, e.g. its SKU) the scores are summed within
    each cluster over all its series and periods, ``M = sum_c S_c S_c' * C/(C - 1) * (n - 1)/(n - p_c)``
    with ``S_c = sum_{gt in c} r z~``: robust to any autocorrelation over time and any correlation
    between the series of a cluster (Liang-Zeger; fixest's default small-sample factors, ``p_c``
    counting the parameters not nested in the clusters, i.e. without the series terms). The
    alternating projections stop when a sweep moves the control by less than 1e-10 of its scale,
    or after ``n_sweeps``.

    ``hac=(group, lag)`` (``group`` a ``(G,)`` code per series, e.g. its SKU) replaces the clusters by
    a Driscoll-Kraay meat within each group: the scores of a group's series are summed per period,
    ``S_ct``, and ``M = sum_c sum_{|t - s| <= lag} (1 - |t - s| / (lag + 1)) S_ct S_cs'`` times the
    factor above: robust to shocks shared by a SKU's channels and persisting up to ``lag`` periods,
    without the rank deficiency of a cluster count close to the number of coefficients.
    """
    n_slopes = fit.eps.size
    mask = mask & (slope >= 0)[:, None]
    slope = np.where(slope >= 0, slope, n_slopes)
    x = np.where(mask, x, 0.0)
    w, r = _weights(np.where(mask, y, 0.0), fit.eta, mask, family)
    P = _stratum_matrix(stratum, y.shape[0])
    ginv = _gram(w, fit.basis)
    sw = np.asarray(P @ w) if P is not None else None
    zt = []
    for j in range(controls.shape[0]):
        z = np.where(mask, controls[j], 0.0)
        scale = float(np.max(np.abs(z), initial=0.0)) + 1e-300
        for _ in range(n_sweeps if P is not None else 1):
            z = np.where(mask, _within(z, w, x, slope, n_slopes, fit.basis, ginv), 0.0)
            if P is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    m = np.where(sw > 0, np.asarray(P @ (w * z)) / sw, 0.0)
                z = np.where(mask, z - m[stratum], 0.0)
                if np.max(np.abs(m), initial=0.0) < 1e-10 * scale:  # the projections have converged
                    break
        zt.append(z)
    zt = np.stack(zt)
    k = zt.shape[0]
    flat = zt.reshape(k, -1)
    bread = (flat * w.ravel()[None, :]) @ flat.T
    inv = np.linalg.pinv(bread)
    n_total = int(mask.sum())
    if hac is not None:  # Driscoll-Kraay within SKU: scores summed over a SKU's series per period
        group, lag = hac
        codes = np.unique(group, return_inverse=True)[1].ravel()
        per = np.stack([np.stack([np.bincount(codes, (r * zt[j])[:, t], minlength=codes.max() + 1)
                                  for t in range(r.shape[1])], axis=1) for j in range(k)], axis=2)  # (C, T, K)
        meat = np.einsum("ctk,ctl->kl", per, per)
        for lag_l, weight in enumerate(1.0 - np.arange(1, lag + 1) / (lag + 1), start=1):
            cross = np.einsum("ctk,ctl->kl", per[:, lag_l:], per[:, :-lag_l])
            meat += weight * (cross + cross.T)
        n_clusters = int((np.bincount(codes, mask.sum(axis=1)) > 0).sum())
        adj = n_clusters / max(n_clusters - 1, 1) * (n_total - 1) / max(n_total - fit.n_params, 1)
        return inv @ meat @ inv * adj
    if cluster is None:
        meat = (flat * (r * r).ravel()[None, :]) @ flat.T
        return inv @ meat @ inv * n_total / max(n_total - fit.n_params, 1)
    cluster = np.asarray(cluster)
    if cluster.ndim == 2:  # one code per cell, e.g. SKU x block of periods (series terms span several)
        codes = np.unique(cluster[mask], return_inverse=True)[1].ravel()
        scores = np.stack([np.bincount(codes, (r * zt[j])[mask]) for j in range(k)], axis=1)
        n_clusters = int(codes.max()) + 1 if codes.size else 0
        nested = 0
    else:
        codes = np.unique(cluster, return_inverse=True)[1].ravel()
        scores = np.stack([np.bincount(codes, (r * zt[j]).sum(axis=1)) for j in range(k)], axis=1)  # (C, K)
        n_clusters = int((np.bincount(codes, mask.sum(axis=1)) > 0).sum())
        nested = int((mask.sum(axis=1) > 0).sum()) * fit.basis.shape[0]  # series terms sit inside a cluster
    adj = n_clusters / max(n_clusters - 1, 1) * (n_total - 1) / max(n_total - (fit.n_params - nested), 1)
    return inv @ (scores.T @ scores) @ inv * adj
