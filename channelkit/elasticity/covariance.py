"""Exact heteroskedasticity-robust standard errors of the price slopes fitted by :func:`.solver.fit_fe`.

The robust (sandwich) variance of a slope is ``e_s' H^-1 M H^-1 e_s * n / (n - p)`` with
``H = X'WX`` and ``M = X' diag(r^2) X`` over *every* parameter of the model (series terms, period
effects, slopes, shared controls), ``w``/``r`` the working weights and score residuals at the
optimum. This is fixest's and pyfixest's ``vcov="hetero"`` for ``fepois``/``feols``, including
their small-sample factor ``n / (n - p)``, which counts the fixed effects as pyfixest does
(:func:`exact_slope_covariance`).

The design has one column per period effect, so it is never built. Instead every parameter other
than the slopes and controls is eliminated exactly, stratum by stratum:

1. Each series' log price (and each control) is partialled out of the series' own terms
   (constant and trend): ``x'``.
2. Within a time stratum the period effects are eliminated through their Schur complement
   ``S = diag(sum_j w_j) - sum_j W_j B' (B W_j B')^-1 B W_j`` (``T x T``, ``B`` the series basis).
   The price column of series ``g``, residualised on all period effects and series terms of its
   stratum, is then ``1[j = g] x'_g - (I - Pi_j) d_g`` on every series ``j``, with
   ``d_g = S^+ W_g x'_g`` and ``Pi_j`` the weighted projection on series ``j``'s terms.
3. ``H`` and ``M`` of those residualised columns follow in closed form from ``d`` (``T x n``
   products per stratum, :func:`_stratum_blocks`).
4. Slopes shared by series of several strata (one slope per SKU over its channels) add their
   series' columns; the slopes then fall into independent connected blocks, each inverted densely,
   and the shared controls are eliminated through their own (small) Schur complement.

The cost is ``O(T^2 n)`` per stratum of ``n`` series, so a component of more than
``MAX_BLOCK`` slopes (e.g. one stratum for thousands of series) falls back to the first-order
formula of :func:`.solver.slope_covariance`, with a warning.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from channelkit.elasticity.solver import DEAD, FEFit, Family, _gram, _weights, slope_covariance

MAX_BLOCK = 5000


def _pinv_psd(s: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of a symmetric positive semi-definite matrix (drops directions the data leave free)."""
    lam, vec = np.linalg.eigh(s)
    keep = lam > 1e-10 * max(float(lam.max(initial=0.0)), 1e-300)
    return (vec[:, keep] / lam[keep]) @ vec[:, keep].T


def bartlett(lag: int) -> np.ndarray:
    """Newey-West (Bartlett) weights ``1 - l / (lag + 1)`` for ``l = 0..lag``."""
    return 1.0 - np.arange(lag + 1) / (lag + 1)


def _omega(r: np.ndarray, v: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``Omega_j v`` for every series ``j`` (last two axes ``(n, T)``), ``Omega_j[t, s] = k(|t - s|) r_jt r_js``.

    With ``kernel = [1]`` this is ``r^2 v`` (heteroskedasticity-robust); longer kernels add the
    score covariances of the same series ``l`` periods apart (Newey-West within each series).
    """
    u = r * v
    out = u.copy()
    for lag in range(1, len(kernel)):
        out[..., lag:] += kernel[lag] * u[..., :-lag]
        out[..., :-lag] += kernel[lag] * u[..., lag:]
    return r * out


def _omega_sum(r: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``sum_j Omega_j`` as a ``T x T`` band matrix."""
    t = r.shape[1]
    out = np.diag((r * r).sum(axis=0))
    for lag in range(1, len(kernel)):
        band = kernel[lag] * (r[:, :-lag] * r[:, lag:]).sum(axis=0)
        out[np.arange(t - lag), np.arange(lag, t)] = band
        out[np.arange(lag, t), np.arange(t - lag)] = band
    return out


def _period_solver(wk: np.ndarray, flat: np.ndarray, wbasis: np.ndarray, basis: np.ndarray):
    """``rhs -> d``: period-effect coefficients of columns residualised on a stratum's period effects
    and series terms (any solution of the singular normal equations; the residual is the same).

    Eliminates the smaller of the two sides exactly: the ``T x T`` Schur complement ``S`` of the
    period effects when the stratum has many series, else the ``nB x nB`` one of the series terms
    (the period effects' own block is diagonal), so a stratum of a few series costs little.
    """
    t, nb_total = wbasis.shape
    total = wk.sum(axis=0)
    if nb_total >= t:
        s = np.diag(total) - flat @ wbasis.T
        s_inv = _pinv_psd((s + s.T) / 2)
        return lambda rhs: s_inv @ rhs
    inv_total = np.where(total > 1e-12 * total.max(initial=0.0), 1.0 / np.where(total > 0, total, 1.0), 0.0)
    n, nb = wk.shape[0], basis.shape[0]
    sigma = -wbasis.T @ (inv_total[:, None] * wbasis)
    for j in range(n):  # block diagonal: each series' own Gram matrix of its terms
        block = slice(j * nb, (j + 1) * nb)
        sigma[block, block] += (basis * wk[j]) @ basis.T
    sigma_inv = _pinv_psd((sigma + sigma.T) / 2)

    def solve(rhs: np.ndarray) -> np.ndarray:
        scaled = inv_total[:, None] * rhs
        coef = -sigma_inv @ (wbasis.T @ scaled)
        return inv_total[:, None] * (rhs - wbasis @ coef)

    return solve


def _stratum_blocks(idx: np.ndarray, w: np.ndarray, r: np.ndarray, x: np.ndarray, xp: np.ndarray,
                    zp: np.ndarray, mask: np.ndarray, proj: np.ndarray, basis: np.ndarray,
                    kernel: np.ndarray) -> tuple[np.ndarray, ...]:
    """H and M blocks of the series of one stratum (module docstring, step 2 and 3).

    Returns ``h`` and ``m`` (``n x n``, price columns), ``h_xz`` and ``m_xz`` (``n x K``, price
    against controls) and ``h_zz`` and ``m_zz`` (``K x K``, this stratum's share of the controls).
    """
    wk, rk, kk, n = w[idx], r[idx], proj[idx], len(idx)
    nb, t = basis.shape
    flat = kk.transpose(2, 0, 1).reshape(t, n * nb)  # K_j' side by side
    wbasis = (wk[:, :, None] * basis.T[None]).transpose(1, 0, 2).reshape(t, n * nb)
    solve = _period_solver(wk, flat, wbasis, basis)
    rhs = (wk * xp[idx]).T  # (T, n)
    d = solve(rhs)
    h = np.diag((wk * xp[idx] ** 2).sum(axis=1)) - rhs.T @ d
    # N = sum_j (I - Pi_j)' Omega_j (I - Pi_j): the score covariances seen through each series' terms
    om_basis = _omega(rk, np.broadcast_to(basis[:, None, :], (nb, n, t)), kernel)  # (B, n, T)
    cross = om_basis.transpose(2, 1, 0).reshape(t, n * nb) @ flat.T
    gram_r = np.einsum("bt,cjt->jbc", basis, om_basis)
    kc = np.einsum("jbt,jbc->tjc", kk, gram_r).reshape(t, n * nb)
    big_n = _omega_sum(rk, kernel) - cross - cross.T + kc @ flat.T
    rx = _omega(rk, xp[idx], kernel)
    a = rx - np.einsum("jbt,jb->jt", kk, rx @ basis.T)  # (I - Pi_g)' Omega_g x'_g
    ad = a @ d
    m = np.diag((rx * xp[idx]).sum(axis=1)) - ad - ad.T + d.T @ big_n @ d
    if not zp.shape[0]:
        empty = np.zeros((n, 0))
        return h, m, empty, empty, np.zeros((0, 0)), np.zeros((0, 0))
    dz = solve(np.einsum("jt,kjt->tk", wk, zp[:, idx]))
    coef = np.einsum("jbt,tk->kjb", kk, dz)
    zt = (zp[:, idx] - dz.T[:, None, :] + np.einsum("kjb,bt->kjt", coef, basis)) * mask[idx][None]
    h_xz = np.einsum("jt,kjt->jk", wk * x[idx], zt)
    rz = _omega(rk, zt, kernel)
    v = (rz - np.einsum("jbt,kjb->kjt", kk, np.einsum("kjt,bt->kjb", rz, basis))).sum(axis=1)  # (K, T)
    m_xz = np.einsum("jt,kjt->jk", rx, zt) - d.T @ v.T
    h_zz = np.einsum("jt,kjt,ljt->kl", wk, zt, zt)
    m_zz = np.einsum("kjt,ljt->kl", rz, zt)
    return h, m, h_xz, m_xz, h_zz, m_zz


def _series_level(w, r, x, xp, zp, mask, proj, basis, stratum, kernel):
    """Series-level H/M (sparse, block-diagonal by stratum) and the price-control and control blocks."""
    g_count, k = x.shape[0], zp.shape[0]
    rows, cols, hv, mv = [], [], [], []
    h_xz, m_xz = np.zeros((g_count, k)), np.zeros((g_count, k))
    h_zz, m_zz = np.zeros((k, k)), np.zeros((k, k))
    if stratum is None:  # no period effects: each series stands alone
        live = np.flatnonzero(mask.any(axis=1))
        rows, cols = [live], [live]
        om_x = _omega(r, xp, kernel)
        hv, mv = [(w * xp ** 2).sum(axis=1)[live]], [(om_x * xp).sum(axis=1)[live]]
        h_xz = np.einsum("gt,kgt->gk", w * x, zp)
        m_xz = np.einsum("gt,kgt->gk", om_x, zp)
        h_zz = np.einsum("gt,kgt,lgt->kl", w, zp, zp)
        m_zz = np.einsum("kgt,lgt->kl", _omega(r, zp, kernel), zp)
    else:
        for code in np.unique(stratum):
            idx = np.flatnonzero((stratum == code) & mask.any(axis=1))
            if not len(idx):
                continue
            h, m, hxz, mxz, hzz, mzz = _stratum_blocks(idx, w, r, x, xp, zp, mask, proj, basis, kernel)
            rows.append(np.repeat(idx, len(idx)))
            cols.append(np.tile(idx, len(idx)))
            hv.append(h.ravel())
            mv.append(m.ravel())
            h_xz[idx], m_xz[idx] = hxz, mxz
            h_zz += hzz
            m_zz += mzz
    shape = (g_count, g_count)
    r_, c_ = np.concatenate(rows), np.concatenate(cols)
    h_ser = sp.csr_matrix((np.concatenate(hv), (r_, c_)), shape=shape)
    m_ser = sp.csr_matrix((np.concatenate(mv), (r_, c_)), shape=shape)
    return h_ser, m_ser, h_xz, m_xz, h_zz, m_zz


def exact_slope_covariance(
    y: np.ndarray,
    x: np.ndarray,
    mask: np.ndarray,
    fit: FEFit,
    *,
    slope: np.ndarray,
    stratum: np.ndarray | None = None,
    controls: np.ndarray | None = None,
    family: Family = "poisson",
    lag: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Robust variance of each slope of ``fit`` and its number of observations (module docstring).

    ``lag=0`` is heteroskedasticity-robust (fixest's ``"hetero"``); ``lag > 0`` is Newey-West
    within each series with Bartlett weights up to ``lag`` periods apart (pyfixest's
    ``vcov="NW"`` with the series as panel and the period as time), for demand shocks that persist.

    Arguments are those of :func:`.solver.fit_fe` (``controls`` ``(K, G, T)`` as fitted). In the
    factor ``n / (n - p)``, ``n`` counts the cells whose period effect has sales and ``p`` all
    parameters, less the level the two fixed-effect dimensions share and one collinear series
    trend per stratum: pyfixest's ``vcov="hetero"`` count, so both give the same errors. For
    Newey-West the factor is pyfixest's ``(n - 1) / (n - p) * T / (T - 1)`` over ``T`` periods.
    """
    if lag < 0:
        raise ValueError(f"`lag` must be >= 0, but got {lag}")
    n_slopes = fit.eps.size
    mask = mask & (slope >= 0)[:, None]
    x = np.where(mask, x, 0.0)
    w, r = _weights(np.where(mask, y, 0.0), fit.eta, mask, family)
    kernel = bartlett(lag)
    basis = fit.basis
    proj = np.einsum("gbc,ct->gbt", _gram(w, basis), basis) * w[:, None, :]  # K_g: coefficients on the series terms
    xp = np.where(mask, x - np.einsum("gbt,gt->gb", proj, x) @ basis, 0.0)
    zc = np.zeros((0, *x.shape)) if controls is None else np.where(mask[None], controls, 0.0)
    zp = np.where(mask[None], zc - np.einsum("gbt,kgt->kgb", proj, zc) @ basis, 0.0)
    h_ser, m_ser, h_xz, m_xz, h_zz, m_zz = _series_level(w, r, x, xp, zp, mask, proj, basis, stratum, kernel)
    used = slope >= 0
    agg = sp.csr_matrix((np.ones(used.sum()), (slope[used], np.flatnonzero(used))), shape=(n_slopes, x.shape[0]))
    h_ss, m_ss = (agg @ h_ser @ agg.T).tocsr(), (agg @ m_ser @ agg.T).tocsr()
    h_sz, m_sz = agg @ h_xz, agg @ m_xz
    n_comp, comp = connected_components(h_ss != 0, directed=False)
    sizes = np.bincount(comp, minlength=n_comp)
    if sizes.max(initial=0) > MAX_BLOCK:
        warnings.warn(f"{sizes.max()} price slopes share period effects; their standard errors use the "
                      f"first-order heteroskedasticity-robust formula (exact up to {MAX_BLOCK}"
                      f"{'; Newey-West is not available there' if lag else ''})", UserWarning, stacklevel=3)
        return slope_covariance(y, x, mask, fit, slope=slope, stratum=stratum, family=family)
    # L = H^-1 restricted to the slope rows, with the controls eliminated by their Schur complement
    h_inv_m_h_inv = np.zeros(n_slopes)
    e = np.zeros_like(h_sz)  # H_ss^-1 H_sz
    hinv_y = np.zeros_like(h_sz)  # H_ss^-1 (M_ss E - M_sz), filled after E
    blocks = []
    for c in range(n_comp):
        idx = np.flatnonzero(comp == c)
        hi = _pinv_psd(h_ss[idx][:, idx].toarray())
        mi = m_ss[idx][:, idx].toarray()
        h_inv_m_h_inv[idx] = np.einsum("ij,jk,ik->i", hi, mi, hi)
        e[idx] = hi @ h_sz[idx]
        blocks.append((idx, hi, mi))
    var = h_inv_m_h_inv
    if h_sz.shape[1]:
        schur_inv = np.linalg.pinv(h_zz - h_sz.T @ e)
        m_e = np.zeros_like(e)
        for idx, hi, mi in blocks:
            m_e[idx] = mi @ e[idx]
            hinv_y[idx] = hi @ (m_e[idx] - m_sz[idx])
        zm = e.T @ m_e - e.T @ m_sz - m_sz.T @ e + m_zz
        es = e @ schur_inv
        var = var + 2 * (hinv_y * es).sum(axis=1) + ((es @ zm) * es).sum(axis=1)
    live = mask
    p = fit.n_params
    if stratum is not None:
        # pyfixest's count: cells of period effects without any sales are separated and leave the fit;
        # the two fixed-effect dimensions share one level, and one series trend per stratum is collinear
        live = mask & (fit.delta > DEAD / 2)[stratum]
        p -= 1 + (len(np.unique(stratum[mask.any(axis=1)])) if basis.shape[0] > 1 else 0)
    n_total = int(live.sum())
    factor = n_total / max(n_total - p, 1)
    if lag:
        periods = int(live.any(axis=0).sum())
        factor = (n_total - 1) / max(n_total - p, 1) * periods / max(periods - 1, 1)
    n_obs = np.bincount(slope[used], mask[used].sum(axis=1), minlength=n_slopes)
    with np.errstate(invalid="ignore"):
        var = np.where(var > 0, var * factor, np.nan)
    return var, n_obs
