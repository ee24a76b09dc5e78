"""Out-of-sample check: refit without the last periods and forecast them from the known spend.

The baseline design of the held-out periods (trend, seasonality, festivals, controls) is known in
advance, as the spend is; the media parameters are refitted on the earlier periods only and the
saturation point ``K`` stays tied to the training spend, so no held-out sales leak into the fit.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from channelkit.mmm.fit import build_grid, fit_once
from channelkit.mmm.model import MMMResult
from channelkit.mmm.transforms import max_lag_periods


def holdout_error(result: MMMResult, *, holdout: int | None = None) -> dict:
    """``{holdout_periods, holdout_mape, holdout_wape, holdout_wape_baseline_only}`` (percent)."""
    data = result.data
    h = holdout or (56 if data.period_days == 1 else 8)
    if data.n - h < 20:
        return {"holdout_periods": 0}
    train = replace(data, dates=data.dates[:-h], y=data.y[:-h], spend=data.spend[:-h], base=data.base[:-h])
    keep = np.abs(train.base).sum(0) > 0  # a festival that only falls in the held-out weeks
    train = replace(train, base=train.base[:, keep])
    rng = np.random.default_rng(result.options.get("seed", 0))
    fit = fit_once(train, build_grid(train), n_starts=result.options.get("n_starts", 3), rng=rng,
                   sigma2=result.sigma2, prior_weight=result.options.get("prior_weight", 1.0))
    lag = max_lag_periods(data.period_days)
    media = sum(fit.beta[c] * m.features(data.spend[:, c], lag, ref_spend=train.spend[:, c])
                for c, m in enumerate(fit.media))
    base = data.base[:, keep] @ fit.gamma
    actual = data.y[-h:]
    err = actual - (base + media)[-h:]
    err_base = actual - base[-h:]
    return {"holdout_periods": int(h),
            "holdout_mape": float(100 * np.mean(np.abs(err) / np.abs(actual))),
            "holdout_wape": float(100 * np.abs(err).sum() / np.abs(actual).sum()),
            "holdout_wape_baseline_only": float(100 * np.abs(err_base).sum() / np.abs(actual).sum())}
