"""Cross-price elasticities: across the channels of one SKU, and between SKUs of one category.

Both extend the own-price model of :mod:`.estimate` (series intercepts, own-price slope per
series, period effects per channel) with other prices as regressors, fitted jointly by PPML::

    log E[q_{s,c,t}] = ... + e_{s,c} log p_{s,c,t} + sum_{c' != c} eta_{c,c'} log p_{s,c',t}   (channels)
    log E[q_{j,c,t}] = ... + e_{j,c} log p_{j,c,t} + sum_{k != j} eta_{j,k} log p_{k,c,t}     (category)

``eta_{c,c'}`` (one per ordered channel pair, pooled over SKUs) answers "does a cheaper price on
c' take sales from c?" (positive: substitutes, the cheaper channel takes sales; negative:
complements). ``eta_{j,k}`` (one per ordered SKU pair, pooled over channels) does the same inside
a category. Other prices enter as deviations from their series mean; where the other series has
no known price that day, the deviation is 0. The period effects absorb any channel-wide price
move, so the cross terms are identified by SKU-specific price changes.

Inference: each cross coefficient is a pooled slope on a persistent regressor (a price path), so
its sandwich must allow for errors that are autocorrelated over days and shared by the channels
of a SKU (a SKU going viral, a stock-out): ``cluster="sku"`` (default) sums the scores by SKU
(Liang-Zeger cluster-robust covariance, fixest's small-sample factors, Student-t intervals with
``C - 1`` degrees of freedom, :func:`.solver.gamma_covariance`). ``cluster="none"`` gives the
heteroskedasticity-robust sandwich, which treats every SKU-day as independent and, on data with
such shocks, flags far more than 10% of truly null pairs at the 90% level. SKU x date effects
would absorb shared shocks too, but they leave the channel matrix unidentified: adding a
constant to the own and all cross coefficients on one channel's price is absorbed by them.

Each ordered pair costs one regressor, so the channel matrix keeps the ``max_channels`` busiest
channels and the category matrix the ``max_skus`` best sellers of each category.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from channelkit.elasticity.design import PanelArrays, prepare_panel
from channelkit.elasticity.estimate import fit_arrays
from channelkit.elasticity.solver import gamma_covariance
from channelkit.errors import InputError


def _demeaned_logp(arrays: PanelArrays) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(np.where(arrays.mask, arrays.logp, np.nan), axis=1)
    return np.nan_to_num(arrays.logp - mean[:, None], nan=0.0)


Cluster = Literal["sku_hac", "sku_block", "sku", "series", "none"]
BLOCK_DAYS = 91  # length of the time blocks of cluster="sku_block" (a quarter)
HAC_DAYS = 56  # Bartlett bandwidth of cluster="sku_hac": shocks persisting up to eight weeks


def cluster_codes(arrays: PanelArrays, cluster: str, *, block_days: int = BLOCK_DAYS) -> np.ndarray | None:
    """Cluster code per series (its SKU, the series itself), per cell (``"sku_block"``: SKU x block of
    ``block_days`` days), or None (heteroskedasticity-robust only)."""
    if cluster not in ("sku_hac", "sku_block", "sku", "series", "none"):
        raise InputError(f"`cluster` must be 'sku_hac', 'sku_block', 'sku', 'series' or 'none', but got {cluster!r}")
    if cluster in ("none", "sku_hac"):
        return None
    if cluster == "sku_block":
        sku = pd.factorize(arrays.keys["sku"])[0]
        block = ((arrays.dates - arrays.dates[0]).days.to_numpy() // block_days).astype(np.int64)
        return sku[:, None] * (int(block.max()) + 1) + block[None, :]
    if cluster == "series":
        return np.arange(arrays.n_series)
    return pd.factorize(arrays.keys["sku"])[0]


def _fit_with(arrays: PanelArrays, controls: np.ndarray, names: list[tuple], level: float,
              time_by: Sequence[str], min_obs: int, cluster: str = "sku_hac") -> pd.DataFrame:
    """Joint PPML fit with ``controls`` as shared regressors; one row per control with its interval.

    Clustered intervals use Student's t with ``C - 1`` degrees of freedom (``C`` clusters), as
    fixest and Stata do; the heteroskedasticity-robust ones the normal quantile.
    """
    codes = cluster_codes(arrays, cluster)
    arr = replace(arrays, controls=controls, control_names=[str(n) for n in names])
    _, d = fit_arrays(arr, time_by=time_by, min_obs=min_obs)
    hac = None
    if cluster == "sku_hac":
        step = max(int(pd.Series(arrays.dates).diff().dt.days.median()), 1) if len(arrays.dates) > 1 else 1
        hac = (pd.factorize(arrays.keys["sku"])[0], max(1, HAC_DAYS // step))
        codes = hac[0]  # Student t over the SKUs
    cov = gamma_covariance(d["y"], np.nan_to_num(arrays.logp), d["mask"], d["fit"], slope=d["slope"],
                           controls=np.where(d["mask"][None], controls, 0.0), stratum=d["strata"],
                           family=d["family"], cluster=None if hac else codes, hac=hac)
    est = d["fit"].gamma
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    n_obs = [(np.abs(controls[j]) > 0).__and__(d["mask"]).sum() for j in range(controls.shape[0])]
    if codes is None:
        dist = stats.norm
    else:
        n_clusters = len(np.unique(codes[d["mask"]] if codes.ndim == 2 else codes[d["mask"].any(axis=1)]))
        dist = stats.t(df=max(n_clusters - 1, 1))
    q = dist.ppf(0.5 + level / 2)
    out = pd.DataFrame(names, columns=["a", "b"])
    out["elasticity"], out["se"] = est, se
    out["ci_low"], out["ci_high"] = est - q * se, est + q * se
    with np.errstate(divide="ignore", invalid="ignore"):
        out["p_value"] = 2 * dist.sf(np.abs(est / se))
    out["n_obs"] = n_obs
    ok = (out["n_obs"] > 0) & np.isfinite(out["se"]) & (out["se"] > 0)
    out.loc[~ok, ["elasticity", "se", "ci_low", "ci_high", "p_value"]] = np.nan
    out["status"] = np.where(ok, "ok", "not_identified")
    return out


def cross_channel_elasticities(
    panel: pd.DataFrame,
    *,
    level: float = 0.90,
    max_channels: int = 8,
    time_by: Sequence[str] | None = None,
    min_obs: int = 20,
    cluster: Cluster = "sku_hac",
    arrays: PanelArrays | None = None,
) -> pd.DataFrame:
    """Cross-channel elasticity matrix of the same SKU, pooled over SKUs (model in the module docstring).

    One row per ordered pair: ``channel`` (whose demand), ``other_channel`` (whose price),
    ``elasticity``, ``se``, ``ci_low``, ``ci_high``, ``p_value`` (two-sided, against 0), ``n_obs``,
    ``status``. ``cluster`` (``"sku"``, ``"series"`` or ``"none"``) sets the covariance, see the
    module docstring. Pass prepared
    ``arrays`` to skip :func:`.design.prepare_panel`. ``time_by`` as in
    :func:`.estimate.estimate_elasticities` (default: channel, plus category when present).
    """
    if arrays is None:
        arrays = prepare_panel(panel, series_attrs=[c for c in ("category",) if c in panel.columns])
    if time_by is None:
        time_by = ("channel", "category") if "category" in arrays.keys.columns else ("channel",)
    keys = arrays.keys
    busiest = pd.Series(arrays.y.sum(axis=1), index=keys["channel"]).groupby(level=0).sum()
    channels = list(busiest.sort_values(ascending=False).index[:max_channels])
    if len(channels) < 2:
        raise InputError(f"cross-channel elasticities need at least 2 channels, but the panel has {channels}")
    lp = _demeaned_logp(arrays)
    row_of = {(s, c): i for i, (s, c) in enumerate(zip(keys["sku"], keys["channel"]))}
    names = [(a, b) for a in channels for b in channels if a != b]
    controls = np.zeros((len(names), *arrays.y.shape))
    for j, (a, b) in enumerate(names):
        for i in np.flatnonzero(keys["channel"].to_numpy() == a):
            src = row_of.get((keys["sku"].iat[i], b))
            if src is not None:
                controls[j, i] = lp[src]
    out = _fit_with(arrays, controls, names, level, time_by, min_obs, cluster)
    return out.rename(columns={"a": "channel", "b": "other_channel"})


def _season_controls(arrays: PanelArrays, category: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
    """Yearly sine/cosine per category (the first category is the base), as extra shared controls."""
    doy = 2 * np.pi * arrays.dates.dayofyear.to_numpy() / 365.25
    cats = sorted(set(category))[1:]
    blocks, names = [], []
    for k in cats:
        rows = (category == k)[:, None]
        for name, wave in (("sin", np.sin(doy)), ("cos", np.cos(doy))):
            blocks.append(np.where(rows, wave[None, :], 0.0))
            names.append((f"season_{k}", name))
    return (np.stack(blocks) if blocks else np.zeros((0, *arrays.y.shape))), names


def cross_price_matrix(
    panel: pd.DataFrame,
    *,
    category_col: str = "category",
    level: float = 0.90,
    max_skus: int = 6,
    min_obs: int = 20,
    cluster: Cluster = "sku_hac",
) -> pd.DataFrame:
    """Cross-price elasticities between the ``max_skus`` best sellers of each category, pooled over channels.

    One joint PPML fit over the whole panel: own-price slopes per series, period effects per
    channel, a yearly season per category and one regressor per ordered pair of top SKUs of a
    category. Period effects per channel *and category* would make a complete demand system
    unidentified (adding the same constant to every own and cross elasticity of a category is
    absorbed by them), so the panel needs at least two categories: the others anchor the period
    effects. Columns: ``category``, ``sku`` (whose demand), ``other_sku`` (whose price, same
    channel), ``elasticity``, ``se``, ``ci_low``, ``ci_high``, ``p_value``, ``n_obs``, ``status``;
    ``cluster`` as in :func:`cross_channel_elasticities`.
    """
    if category_col not in panel.columns:
        raise InputError(f"`panel` lacks the column `{category_col}`; merge it from products on `sku`")
    n_cat = panel[category_col].nunique()
    if n_cat < 2:
        raise InputError(f"cross-price elasticities within a category need a panel with at least 2 categories "
                         f"(the others anchor the period effects), but `{category_col}` has {n_cat}")
    arrays = prepare_panel(panel, series_attrs=[category_col])
    keys = arrays.keys
    category = keys[category_col].astype(str).to_numpy()
    lp = _demeaned_logp(arrays)
    row_of = {(s, c): i for i, (s, c) in enumerate(zip(keys["sku"], keys["channel"]))}
    sales = pd.DataFrame({"sku": keys["sku"], "cat": category, "units": arrays.y.sum(axis=1)})
    names: list[tuple] = []
    blocks = []
    for cat, part in sales.groupby("cat", sort=True):
        top = part.groupby("sku")["units"].sum().sort_values(ascending=False).index[:max_skus].tolist()
        for a in top:
            for b in top:
                if a == b:
                    continue
                z = np.zeros(arrays.y.shape)
                for i in np.flatnonzero(keys["sku"].to_numpy() == a):
                    src = row_of.get((b, keys["channel"].iat[i]))
                    if src is not None:
                        z[i] = lp[src]
                blocks.append(z)
                names.append((cat, a, b))
    if not names:
        raise InputError("no category has two or more SKUs to compare")
    season, season_names = _season_controls(arrays, category)
    controls = np.concatenate([np.stack(blocks), season])
    out = _fit_with(arrays, controls, [(f"{c}|{a}", b) for c, a, b in names] + season_names, level,
                    ("channel",), min_obs, cluster).iloc[:len(names)]
    out[["category", "sku"]] = out["a"].str.split("|", n=1, expand=True).to_numpy()
    out = out.rename(columns={"b": "other_sku"}).reset_index(drop=True)
    return out[["category", "sku", "other_sku", "elasticity", "se", "ci_low", "ci_high", "p_value", "n_obs",
                "status"]]
