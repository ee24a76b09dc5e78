"""Fitting the marketing mix model: a profile least-squares search over the media grid.

The model, per period t::

    y_t = baseline_t . gamma + sum_c beta_c * h_c(t) + e_t,    beta_c >= 0,
    h_c(t) = Hill(adstock(spend_c)(t); K_c, n_c)           (see :mod:`channelkit.mmm.transforms`)

For fixed adstock and saturation the model is linear, so the baseline is profiled out exactly
(each candidate feature and the target are projected off the baseline columns: Frisch-Waugh)
and the media parameters are chosen from the candidate grid by block-coordinate descent: for
each channel in turn, every candidate's best non-negative ``beta`` given the other channels has a
closed form, and the candidate that lowers the objective most is kept. Sweeps repeat until
nothing changes; several starts (random candidates, random channel order, seeded) guard against
local optima and the best objective wins. From the grid optimum each channel's parameters are
then refined continuously (Nelder-Mead on the profiled objective, the other channels held). A final
non-negative least squares polishes the betas and the baseline coefficients are solved last.

Priors enter as penalties, ``sigma^2 * prior_weight * [log(K / ref)^2 + (log(n / SLOPE_PRIOR) /
SLOPE_PRIOR_SD)^2]`` (-2 log of lognormal priors on the half-saturation point and the Hill slope,
in the objective's units); the grid's range is the prior of the carry-over.

Lift tests (channel, period, measured incremental sales ``L`` with standard error ``se``) enter as
likelihood terms: the objective is

    sum_t w_t (y_t - fitted_t)^2 + sum_i (sigma^2 / se_i^2) (L_i - sum_{t in period_i} beta_c h_c(t))^2

i.e. a Gaussian measurement of the channel's contribution over the test period, weighted against
the residual variance ``sigma^2`` of the fit without tests. ``w_t`` are bootstrap row weights
(1 for the point fit).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize, nnls
from threadpoolctl import threadpool_limits

from channelkit.mmm.design import ModelData
from channelkit.mmm.transforms import (Candidates, Kernel, MediaParams, channel_candidates, kernels,
                                       max_lag_periods)

MAX_SWEEPS = 30
SLOPE_PRIOR = 1.0
SLOPE_PRIOR_SD = 0.4


@dataclass(frozen=True)
class Grid:
    """Candidate features of every channel (the prior: the grid of adstock and saturation shapes)."""

    kernels: list[Kernel]
    candidates: list[Candidates]


@dataclass(frozen=True)
class LiftTests:
    """Lift tests as arrays: channel index, period mask (tests x periods), lift and standard error."""

    channel: np.ndarray
    mask: np.ndarray
    lift: np.ndarray
    se: np.ndarray

@dataclass(frozen=True)
class Fit:
    """One fit: media parameters and beta per channel, baseline coefficients, objective."""

    media: list[MediaParams]
    beta: np.ndarray  # (C,)
    gamma: np.ndarray  # (p,)
    objective: float
    sse: float  # weighted residual sum of squares of the data rows
    choice: np.ndarray  # (C,) grid candidate each channel's refinement started from

    def features(self, data: ModelData) -> np.ndarray:
        """``h`` per period and channel (n x C) at the fitted media parameters."""
        lag = max_lag_periods(data.period_days)
        return np.column_stack([m.features(data.spend[:, c], lag) for c, m in enumerate(self.media)])


def build_grid(data: ModelData) -> Grid:
    """Candidates for every channel on the default grid for the data's period length."""
    ks = kernels(data.period_days)
    return Grid(ks, [channel_candidates(data.spend[:, c], ks) for c in range(len(data.channels))])


def prior_cost(k_rel, slope, center: np.ndarray | None = None) -> np.ndarray:
    """-2 log prior of the saturation (up to a constant): log K/ref ~ N(0, 1), log n ~ N(0, 0.4).

    ``center`` = (shift of log K, shift of log n in prior sds): 0 for the point fit.

    Weakly informative: it keeps the half-saturation point near the spend levels the data show,
    where the data can say something, instead of far beyond them (a curve flat over every observed
    spend turns the channel into a constant that the intercept absorbs)."""
    k_rel, slope = np.asarray(k_rel, float), np.asarray(slope, float)
    ck, cn = (0.0, 0.0) if center is None else center  # bootstrap draws shift the centres (bootstrap.py)
    slope_z = (np.log(slope) - np.log(SLOPE_PRIOR)) / SLOPE_PRIOR_SD - cn
    return (np.log(k_rel) - ck) ** 2 + slope_z ** 2


def _projector(base: np.ndarray, sw: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the weighted baseline columns (rank-revealing SVD)."""
    u, s, _ = np.linalg.svd(sw[:, None] * base, full_matrices=False)
    return u[:, s > s[0] * 1e-10]


@dataclass
class _Problem:
    """The profiled problem of one fit: weights, baseline basis, residualised target, lift tests."""

    data: ModelData
    sw: np.ndarray
    q: np.ndarray
    lift: LiftTests | None
    lift_values: np.ndarray | None
    sigma2: float
    prior: float  # multiplier of the prior cost (sigma2 * prior_weight)
    centers: np.ndarray  # (C, 2) prior centre shifts per channel, in prior standard deviations
    y_r: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def resid(self, v: np.ndarray) -> np.ndarray:
        return v - self.q @ (self.q.T @ v)

    def lift_rows(self, c: int, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A, t) of channel ``c``'s lift rows for features ``h`` (n,) or (n, J)."""
        if self.lift is None or not (self.lift.channel == c).any():
            return np.zeros((0,) + h.shape[1:]), np.zeros(0)
        sel = np.flatnonzero(self.lift.channel == c)
        scale = np.sqrt(self.sigma2) / self.lift.se[sel]
        a = self.lift.mask[sel].astype(float) @ h
        a = a * (scale[:, None] if a.ndim == 2 else scale)
        return a, scale * self.lift_values[sel]


def _channel_score(m: np.ndarray, a: np.ndarray, t: np.ndarray, r_c: np.ndarray, pen: np.ndarray):
    """Objective (up to a constant) and beta for candidate columns ``m`` (n x J) of one channel,
    the other channels held: ``-max(num, 0)^2 / den + penalty`` with ``num = m'r + a't``."""
    num = m.T @ r_c + (a.T @ t if len(t) else 0.0)
    den = (m ** 2).sum(0) + (a ** 2).sum(0) + 1e-300
    beta = np.maximum(num, 0.0) / den
    return -np.maximum(num, 0.0) ** 2 / den + pen, beta


def fit_once(*args, **kwargs) -> Fit:
    """:func:`_fit_once` with BLAS limited to one thread (see there)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_once(*args, **kwargs)


def _fit_once(data: ModelData, grid: Grid, *, weights: np.ndarray | None = None, lift: LiftTests | None = None,
             lift_values: np.ndarray | None = None, sigma2: float = 0.0, prior_weight: float = 1.0,
             n_starts: int = 3, refine_sweeps: int = 2, rng: np.random.Generator,
             init: np.ndarray | None = None, prior_centers: np.ndarray | None = None) -> Fit:
    """Fit the model once (see the module docstring); ``init`` is the first start's grid choice.

    ``sigma2`` scales the lift-test terms and the prior (0: neither; :func:`channelkit.mmm.model.fit_mmm`
    estimates it in a first pass). Defaults: 3 starts, 2 sweeps of continuous refinement (0: grid only).
    BLAS runs single-threaded inside: the matrices are small and threads only contend."""
    sw = np.sqrt(np.ones(data.n) if weights is None else np.asarray(weights, float))
    values = None if lift is None else (lift.lift if lift_values is None else lift_values)
    centers = np.zeros((len(data.channels), 2)) if prior_centers is None else np.asarray(prior_centers, float)
    prob = _Problem(data, sw, _projector(data.base, sw), lift, values, sigma2, sigma2 * prior_weight, centers)
    prob.y_r = prob.resid(sw * data.y)
    feats = [prob.resid(sw[:, None] * cand.features) for cand in grid.candidates]
    lifts = [prob.lift_rows(c, cand.features) for c, cand in enumerate(grid.candidates)]
    pens = [prob.prior * prior_cost(cand.k_rel, cand.slope, centers[c]) for c, cand in enumerate(grid.candidates)]
    n_ch, best = len(feats), None
    for start in range(max(1, n_starts)):
        if start == 0 and init is not None:
            choice = np.asarray(init).copy()
        else:
            choice = np.array([rng.integers(f.shape[1]) for f in feats])
        beta = _polish(prob, [feats[c][:, choice[c]] for c in range(n_ch)],
                       [(lifts[c][0][:, choice[c]], lifts[c][1]) for c in range(n_ch)])
        choice, beta = _sweeps(prob, feats, lifts, pens, choice, beta, rng)
        obj = _objective(prob, [feats[c][:, choice[c]] for c in range(n_ch)],
                         [(lifts[c][0][:, choice[c]], lifts[c][1]) for c in range(n_ch)], beta,
                         sum(pens[c][choice[c]] for c in range(n_ch)))
        if best is None or obj < best[0] - 1e-12 * abs(best[0]):
            best = (obj, choice, beta)
    _, choice, beta = best
    media = [_from_grid(grid, c, choice[c]) for c in range(n_ch)]
    if refine_sweeps > 0:
        media, beta = _refine(prob, media, beta, rng, sweeps=refine_sweeps)
    return _finish(prob, media, choice)


def _from_grid(grid: Grid, c: int, j: int) -> MediaParams:
    cand = grid.candidates[c]
    ker = grid.kernels[cand.kernel_idx[j]]
    return MediaParams(ker.kind, ker.params, float(cand.k_rel[j]), float(cand.slope[j]))


def _sweeps(prob, feats, lifts, pens, choice, beta, rng):
    """Block-coordinate descent over channels on the grid until the choice and betas settle."""
    n_ch = len(feats)
    r = prob.y_r - sum(beta[c] * feats[c][:, choice[c]] for c in range(n_ch))
    for _ in range(MAX_SWEEPS):
        changed = False
        for c in rng.permutation(n_ch):
            r_c = r + beta[c] * feats[c][:, choice[c]]
            score, b = _channel_score(feats[c], lifts[c][0], lifts[c][1], r_c, pens[c])
            j = int(np.argmin(score))
            if j != choice[c] and score[j] < score[choice[c]] - 1e-9 * abs(score[choice[c]]):
                changed = True
            else:
                j = choice[c]
            choice[c], beta[c] = j, b[j]
            r = r_c - beta[c] * feats[c][:, j]
        if not changed:
            break
    return choice, beta


def _to_vector(m: MediaParams) -> np.ndarray:
    """Unconstrained coordinates of a channel's media parameters (logit / log transforms)."""
    if m.kind == "geometric":
        a = float(np.clip(m.params[0], 1e-3, 0.95))
        head = [np.log(a / (1 - a))]
    else:
        head = [np.log(m.params[0]), np.log(m.params[1])]
    return np.array(head + [np.log(m.k_rel), np.log(m.slope)])


def _from_vector(kind: str, v: np.ndarray) -> MediaParams:
    """Back from :func:`_to_vector`, clipped to the prior's support."""
    k_rel = float(np.clip(np.exp(v[-2]), 0.05, 10.0))
    slope = float(np.clip(np.exp(v[-1]), 0.5, 5.0))
    if kind == "geometric":
        return MediaParams(kind, (float(np.clip(1 / (1 + np.exp(-np.clip(v[0], -30, 30))), 0.0, 0.95)),), k_rel, slope)
    return MediaParams(kind, (float(np.clip(np.exp(v[0]), 1.0, 8.0)), float(np.clip(np.exp(v[1]), 0.3, 30.0))),
                       k_rel, slope)


def _refine(prob: _Problem, media: list[MediaParams], beta: np.ndarray, rng: np.random.Generator,
            sweeps: int = 2) -> tuple[list[MediaParams], np.ndarray]:
    """Continuous refinement of each channel's media parameters from the grid optimum: Nelder-Mead on
    the profiled objective, one channel at a time with the others held, ``sweeps`` rounds."""
    data, lag = prob.data, max_lag_periods(prob.data.period_days)
    media, beta = list(media), beta.copy()
    cols = [prob.resid(prob.sw * m.features(data.spend[:, c], lag)) for c, m in enumerate(media)]
    r = prob.y_r - sum(beta[c] * cols[c] for c in range(len(media)))
    for _ in range(sweeps):
        for c in rng.permutation(len(media)):
            r_c = r + beta[c] * cols[c]
            kind, spend = media[c].kind, data.spend[:, c]

            def score(v: np.ndarray, c=c, kind=kind, spend=spend, r_c=r_c) -> float:
                m = _from_vector(kind, v)
                h = m.features(spend, lag)
                a, t = prob.lift_rows(c, h)
                pen = np.atleast_1d(prob.prior * prior_cost(m.k_rel, m.slope, prob.centers[c]))
                return float(_channel_score(prob.resid(prob.sw * h)[:, None], a[:, None], t, r_c, pen)[0][0])

            v0 = _to_vector(media[c])
            f0 = score(v0)
            res = minimize(score, v0, method="Nelder-Mead",
                           options={"maxiter": 60 * len(v0), "xatol": 1e-3, "fatol": 1e-10 * abs(f0) + 1e-12})
            if res.fun < f0:
                media[c] = _from_vector(kind, res.x)
            h = media[c].features(spend, lag)
            cols[c] = prob.resid(prob.sw * h)
            a, t = prob.lift_rows(c, h)
            beta[c] = _channel_score(cols[c][:, None], a[:, None], t, r_c, np.zeros(1))[1][0]
            r = r_c - beta[c] * cols[c]
    return media, beta


def _finish(prob: _Problem, media: list[MediaParams], choice: np.ndarray) -> Fit:
    """Joint non-negative betas, baseline coefficients and the objective for fixed media parameters."""
    data, lag, sw = prob.data, max_lag_periods(prob.data.period_days), prob.sw
    h = [m.features(data.spend[:, c], lag) for c, m in enumerate(media)]
    cols = [prob.resid(sw * hc) for hc in h]
    lifts = [prob.lift_rows(c, hc) for c, hc in enumerate(h)]
    beta = _polish(prob, cols, lifts)
    pen = sum(prob.prior * float(prior_cost(m.k_rel, m.slope, prob.centers[c])) for c, m in enumerate(media))
    obj = _objective(prob, cols, lifts, beta, pen)
    media_sum = sum(beta[c] * h[c] for c in range(len(media)))
    gamma = np.linalg.lstsq(sw[:, None] * data.base, sw * (data.y - media_sum), rcond=None)[0]
    sse = float(((sw * (data.y - media_sum - data.base @ gamma)) ** 2).sum())
    return Fit(media, beta, gamma, float(obj), sse, np.asarray(choice))


def _polish(prob: _Problem, cols: list[np.ndarray], lifts: list) -> np.ndarray:
    """Joint non-negative least squares of the betas for fixed features (with the lift rows)."""
    n_ch = len(cols)
    blocks, target = [np.column_stack(cols)], [prob.y_r]
    for c, (a, t) in enumerate(lifts):
        if len(t):
            rows = np.zeros((len(t), n_ch))
            rows[:, c] = a
            blocks.append(rows), target.append(t)
    mat, vec = np.vstack(blocks), np.concatenate(target)
    scale = np.sqrt((mat ** 2).sum(0)) + 1e-300  # column scaling keeps nnls well conditioned
    return nnls(mat / scale, vec, maxiter=50 * n_ch)[0] / scale


def _objective(prob: _Problem, cols: list[np.ndarray], lifts: list, beta: np.ndarray, pen: float) -> float:
    r = prob.y_r - sum(beta[c] * cols[c] for c in range(len(cols)))
    out = float(r @ r) + float(pen)
    for c, (a, t) in enumerate(lifts):
        if len(t):
            out += float(((t - beta[c] * a) ** 2).sum())
    return out


def unique_variation(data: ModelData, columns: np.ndarray, *, pinned: np.ndarray | None = None) -> np.ndarray:
    """Per channel (column): the share of its variance left after the baseline and the other
    channels' columns explain what they can (1 = fully separate, 0 = not identifiable from data).
    Pass the spend (``data.spend``) or a fit's features. Channels in ``pinned`` (those with a lift
    test: their effect is measured, not inferred) are not counted among the others."""
    q = _projector(data.base, np.ones(data.n))
    pinned = np.zeros(columns.shape[1], dtype=bool) if pinned is None else np.asarray(pinned, bool)
    centred = columns - columns.mean(0)
    proj = columns - q @ (q.T @ columns)
    out = np.zeros(columns.shape[1])
    for c in range(columns.shape[1]):
        keep = ~pinned
        keep[c] = False
        others = proj[:, keep]
        left = proj[:, c]
        if others.shape[1]:
            left = left - others @ np.linalg.lstsq(others, left, rcond=None)[0]
        out[c] = float(left @ left) / max(float(centred[:, c] @ centred[:, c]), 1e-300)
    return out
