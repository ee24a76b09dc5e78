"""What a fitted model says: per-channel returns, the decomposition, response curves, diagnostics.

Definitions (money in the target's units, e.g. CNY of sales):

- ``contribution`` of a channel = ``sum_t beta h(t)``: the sales its spend made in the data's
  periods, against no spend at all;
- ``roas`` = contribution / spend (ROAS: sales per yuan, not profit; ROI needs the margin);
- ``mroas`` (marginal ROAS) = the sales of the next yuan: d contribution / d spend when the
  channel's spend in every period grows in proportion, by a central difference of +-1 %;
- ``half_life`` in days: the lag by which half of a yuan's effect has arrived;
- the numbers are medians over the bootstrap refits (bagging; the point fit's values when there
  are no refits): the single fit's search over curve shapes is unstable where the data say
  little, and the median of the refits errs less (ROAS median error 19 % against 22 % on 16
  simulated datasets of another form); the decomposition and the response curves' centre line
  are the point fit's;
- intervals: percentiles of the bootstrap refits at ``level`` percent (equal tails);
- ``status``: ``ok``; ``not_identifiable`` (spend too flat or moving with other channels and no
  lift test: no numbers are given); ``no_spend``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.mmm.fit import Fit
from channelkit.mmm.model import MMMResult
from channelkit.mmm.transforms import half_life, max_lag_periods

SUMMARY_COLUMNS = ["channel", "spend", "contribution", "contribution_lo", "contribution_hi", "roas", "roas_lo",
                   "roas_hi", "mroas", "mroas_lo", "mroas_hi", "half_life", "half_life_lo", "half_life_hi",
                   "adstock", "status"]


def contributions(result: MMMResult, fit: Fit, *, scale: np.ndarray | None = None) -> np.ndarray:
    """Total contribution per channel under ``fit`` with spend scaled per channel by ``scale``."""
    data, lag = result.data, max_lag_periods(result.data.period_days)
    scale = np.ones(len(data.channels)) if scale is None else np.asarray(scale, float)
    return np.array([fit.beta[c] * m.features(data.spend[:, c], lag, scale_spend=scale[c]).sum()
                     for c, m in enumerate(fit.media)])


def channel_metrics(result: MMMResult, fit: Fit) -> pd.DataFrame:
    """contribution, roas, mroas and half_life (days) per channel under one fit."""
    spend = result.data.spend.sum(0)
    base = contributions(result, fit)
    up = contributions(result, fit, scale=np.full(len(spend), 1.01))
    down = contributions(result, fit, scale=np.full(len(spend), 0.99))
    lag = max_lag_periods(result.data.period_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({
            "contribution": base, "roas": base / spend, "mroas": (up - down) / (0.02 * spend),
            "half_life": [half_life(m.weights(lag)) * result.data.period_days for m in fit.media],
        }, index=pd.Index(result.data.channels, name="channel"))


def channel_summary(result: MMMResult) -> pd.DataFrame:
    """One row per channel: :data:`SUMMARY_COLUMNS` (see the module docstring)."""
    point = channel_metrics(result, result.point)
    tail = (100 - result.level) / 2
    draws = [channel_metrics(result, f) for f in result.draws]
    out = point.reset_index()
    out.insert(1, "spend", result.data.spend.sum(0))
    for col in ("contribution", "roas", "mroas", "half_life"):
        if draws:
            stack = np.vstack([d[col].to_numpy() for d in draws])
            lo, hi = np.nanpercentile(stack, [tail, 100 - tail], axis=0)
            out[col] = np.nanmedian(stack, axis=0)  # bagged: steadier than the single fit
        else:
            lo = hi = np.full(len(out), np.nan)
        out[f"{col}_lo"], out[f"{col}_hi"] = lo, hi
    out["adstock"] = [_describe(m, result.data.period_days) for m in result.point.media]
    out["status"] = result.status
    blank = out["status"] != "ok"
    numbers = [c for c in SUMMARY_COLUMNS if c not in ("channel", "spend", "adstock", "status")]
    out.loc[blank, numbers] = np.nan
    return out[SUMMARY_COLUMNS]


def _describe(m, period_days: int) -> str:
    unit = "day" if period_days == 1 else "week"
    if m.kind == "geometric":
        carry = f"geometric alpha={m.params[0]:.2f}/{unit}"
    else:
        carry = f"weibull shape={m.params[0]:.2f} scale={m.params[1] * period_days:.1f}d"
    return f"{carry}; hill K={m.k_rel:.2f}x mean, n={m.slope:.2f}"


def decomposition(result: MMMResult) -> pd.DataFrame:
    """Sales per period split into baseline components and channels (point fit), long form.

    Columns ``date, component, value``; components ``base`` (intercept), ``trend``,
    ``seasonality``, ``festivals``, ``controls`` (those present), one per channel, and
    ``residual``. Per period the components other than ``residual`` sum to the fitted value and
    all of them to the actual sales, exactly (up to floating point)."""
    data, fit = result.data, result.point
    parts: dict[str, np.ndarray] = {}
    groups = np.array(data.base_groups)
    for g in dict.fromkeys(data.base_groups):
        sel = groups == g
        parts[g] = data.base[:, sel] @ fit.gamma[sel]
    h = fit.features(data)
    for c, ch in enumerate(data.channels):
        parts[ch] = fit.beta[c] * h[:, c]
    fitted = sum(parts.values())
    parts["residual"] = data.y - fitted
    wide = pd.DataFrame(parts, index=pd.Index(data.dates, name="date"))
    return wide.reset_index().melt(id_vars="date", var_name="component", value_name="value")


def response_curves(result: MMMResult, *, multipliers: np.ndarray | None = None) -> pd.DataFrame:
    """Contribution of each channel if its spend in every period were scaled, with bands.

    Columns ``channel, multiplier, spend, contribution, lo, hi`` (``multiplier`` 0..2 of the
    actual spend by default, 21 points; bands are bootstrap percentiles at ``level``)."""
    mult = np.linspace(0, 2, 21) if multipliers is None else np.asarray(multipliers, float)
    tail = (100 - result.level) / 2
    rows = []
    n_ch = len(result.data.channels)
    for k in mult:
        scale = np.full(n_ch, k)
        point = contributions(result, result.point, scale=scale)
        draws = np.vstack([contributions(result, f, scale=scale) for f in result.draws]) if result.draws else None
        for c, ch in enumerate(result.data.channels):
            lo, hi = (np.percentile(draws[:, c], [tail, 100 - tail]) if draws is not None else (np.nan, np.nan))
            rows.append((ch, k, k * result.data.spend[:, c].sum(), point[c], lo, hi))
    return pd.DataFrame(rows, columns=["channel", "multiplier", "spend", "contribution", "lo", "hi"])


def diagnostics(result: MMMResult, *, holdout: int | None = None) -> dict:
    """Fit checks: in-sample R^2, residual lag-1 autocorrelation and Durbin-Watson, and the error on
    the last ``holdout`` periods (default 8 weeks) of a refit without them: MAPE and WAPE
    (sum |error| / sum actual), against the same refit's baseline-only forecast."""
    from channelkit.mmm.holdout import holdout_error

    data = result.data
    resid = decomposition(result).query("component == 'residual'")["value"].to_numpy()
    dw = float(np.sum(np.diff(resid) ** 2) / np.sum(resid ** 2))
    r2 = 1 - float(resid @ resid) / float(((data.y - data.y.mean()) ** 2).sum())
    out = {"r2": r2, "residual_lag1": float(np.corrcoef(resid[1:], resid[:-1])[0, 1]), "durbin_watson": dw,
           "sigma": float(np.sqrt(result.sigma2)), "n_periods": data.n, "period_days": data.period_days}
    out.update(holdout_error(result, holdout=holdout))
    return out
