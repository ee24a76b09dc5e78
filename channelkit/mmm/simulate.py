"""A marketing-mix simulator of a *different form* from the engine's and the sample's, with its truth.

Used by tests and ``benchmarks/mmm_simulated.py`` to check that the engine is not only right on
data made the way it models them. Per week (or day) t and channel c::

    spend[c, t] = level_c * season(t)^rho * exp(u[c, t]) * on[c, t]   u: AR(1), phi 0.6, sd ``spend_sd``
    x[c, t]     = spend[c, t] + alpha_c * x[c, t - 1]                  (un-normalised carry-over)
    effect[c,t] = beta_c * (1 - exp(-x[c, t] / (kappa_c * mean(x_c))))   (exponential saturation)
    base[t]     = level * exp(g t + a sin(2 pi t / P) + b cos(2 pi t / P)) * price[t]^elasticity
    sales[t]    = base[t] * exp(e[t]) + sum_c effect[c, t]               e: AR(1), phi 0.3, sd ``noise``

``season`` is the baseline's seasonal factor, so budgets rise with demand (``rho`` ~ U(0, 0.8)),
``on`` switches flighted channels off in ~25 % of periods, ``alpha`` ~ U(0, 0.7), ``kappa`` ~
U(0.5, 2), and ``beta_c`` is set so the channel's ROAS equals a draw from lognormal(log 1.4,
0.6): some channels are not worth their spend. ``price`` is a random walk (the control column).
The truth: ``roas``, ``contribution``, ``spend`` per channel (contributions within the periods).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float, size: int = 1) -> np.ndarray:
    e = rng.normal(0.0, sd * np.sqrt(1 - phi ** 2), (size, n))
    out = np.empty((size, n))
    out[:, 0] = rng.normal(0.0, sd, size)
    for t in range(1, n):
        out[:, t] = phi * out[:, t - 1] + e[:, t]
    return out


def simulate_mmm(*, seed: int = 0, n_periods: int = 156, n_channels: int | None = None, freq: str = "W",
                 noise: float = 0.02, spend_sd: float = 0.8, media_share: float = 0.3) -> tuple[pd.DataFrame, dict]:
    """A wide panel ``date, sales, <channel spend...>, price`` and its truth (see the module docstring).

    Defaults: 156 weekly periods, 3-6 channels, multiplicative noise sd 0.02, spend log-sd 0.8,
    media about 30 % of sales."""
    rng = np.random.default_rng(seed)
    n_ch = int(n_channels or rng.integers(3, 7))
    period = 52.18 if freq == "W" else 365.25
    t = np.arange(n_periods)
    phase = rng.uniform(0, 2 * np.pi)
    season = np.exp(0.25 * np.sin(2 * np.pi * t / period + phase))
    price = 1.0 + 0.05 * np.cumsum(rng.normal(0, 0.15, n_periods)) / np.sqrt(n_periods / 10)
    price = np.clip(price, 0.7, 1.3)
    base = 1e5 * np.exp(rng.uniform(-0.05, 0.15) * t / period) * season * price ** rng.uniform(-2.0, -0.8)
    channels = [f"ch{c + 1}" for c in range(n_ch)]
    rho = rng.uniform(0, 0.8, n_ch)
    u = _ar1(rng, n_periods, 0.6, spend_sd, n_ch)
    flighted = rng.random(n_ch) < 0.4
    on = np.where(flighted[:, None], rng.random((n_ch, n_periods)) > 0.25, True)
    weights = rng.dirichlet(np.ones(n_ch) * 2)
    budget = media_share / 1.4 * base.mean()
    spend = budget * weights[:, None] * season[None, :] ** rho[:, None] * np.exp(u - spend_sd ** 2 / 2) * on
    spend = np.round(spend, 2)
    alpha, kappa = rng.uniform(0, 0.7, n_ch), rng.uniform(0.5, 2.0, n_ch)
    roas = np.exp(rng.normal(np.log(1.4), 0.6, n_ch))
    sales = base * np.exp(_ar1(rng, n_periods, 0.3, noise)[0])
    truth = {"channels": {}, "form": "carry-over sum, exponential saturation, log-linear baseline"}
    for c, ch in enumerate(channels):
        x = np.zeros(n_periods)
        for k in range(n_periods):
            x[k] = spend[c, k] + (alpha[c] * x[k - 1] if k else 0.0)
        shape = 1.0 - np.exp(-x / (kappa[c] * x[x > 0].mean()))
        beta = roas[c] * spend[c].sum() / shape.sum()
        effect = beta * shape
        sales = sales + effect
        truth["channels"][ch] = {"roas": float(roas[c]), "contribution": float(effect.sum()),
                                 "spend": float(spend[c].sum()), "alpha": float(alpha[c]),
                                 "kappa": float(kappa[c]), "rho": float(rho[c])}
    dates = pd.date_range("2022-01-03", periods=n_periods, freq="7D" if freq == "W" else "D")
    frame = pd.DataFrame({"date": dates, "sales": np.round(sales, 2)})
    for c, ch in enumerate(channels):
        frame[ch] = spend[c]
    frame["price"] = np.round(price, 4)
    return frame, truth
