"""The field's standard per-brand specification, for comparison with the default design.

One regression per SKU (brand) on its own rows, the scanner-data log-log model of the
marketing literature::

    log units_{c,t} = e * log price_{c,t} + gamma' controls_{c,t} + alpha_c + delta_t + u_{c,t}

on the periods with sales (``method="ols"``, default; ``"ppml"`` keeps zero periods), with store
(channel) fixed effects ``alpha_c`` and, with ``week_effects=True`` (default), period fixed
effects ``delta_t`` of this SKU alone (its own "week FE"); ``week_effects=False`` drops them.
Controls (deal, feature, display, ...) get one coefficient per SKU, as in a separate regression.
Errors are heteroskedasticity-robust (fixest's ``vcov="hetero"``). ``tests/test_elasticity_standard.py``
writes the same regressions in pyfixest (``feols("log(units) ~ log(price) + controls | channel +
date")``) from the raw panel and gets the same numbers.

The SKU's own period effects absorb every chain-wide move of its demand, so its elasticity is
identified from its price differences across stores in the same week, never from its price
relative to a substitute's; it does not absorb store-specific calendar effects (a store's own
promotion traffic), which the controls must carry.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from channelkit.elasticity.design import check_panel, prepare_panel
from channelkit.elasticity.estimate import RESULT_COLUMNS, Method, fit_arrays
from channelkit.errors import InputError


def standard_elasticities(
    panel: pd.DataFrame,
    *,
    controls: Sequence[str] = (),
    week_effects: bool = True,
    method: Method = "ols",
    level: float = 0.90,
    min_obs: int = 20,
    min_positive: int = 5,
    min_price_sd: float = 0.01,
    gaps: str = "auto",
) -> pd.DataFrame:
    """Per-SKU regressions of the module docstring; one row per SKU (columns of
    :func:`.estimate.estimate_elasticities`, ``channel`` empty, ``method`` e.g. ``"ols, store + week FE"``).
    Defaults: OLS, week effects on, 90% intervals, no controls."""
    check_panel(panel, columns=["date", "sku", "channel", "units", "price", *controls])
    if method not in ("ols", "ppml"):
        raise InputError(f"`method` must be 'ols' or 'ppml', but got {method!r}")
    label = f"{method}, store{' + week' if week_effects else ''} FE"
    rows = []
    for sku, part in panel.groupby(panel["sku"].astype(str), sort=True):
        arrays = prepare_panel(part, controls=controls, gaps=gaps)
        result, _ = fit_arrays(arrays, by=("sku",), method=method, time_effects="date" if week_effects else "none",
                               time_by=(), trend=False, level=level, min_obs=min_obs, min_positive=min_positive,
                               min_price_sd=min_price_sd)
        rows.append(result.assign(sku=sku))
    out = pd.concat(rows, ignore_index=True)[RESULT_COLUMNS]
    return out.assign(method=label)
