"""Scenario simulator: what a proposed set of price changes does to units, revenue and margin.

For each SKU, with ``dlogp_c = log(p1_c / p0_c)`` on every channel ``c`` (0 where unchanged)::

    dlog q_c = e_c * dlogp_c + sum_{c' != c} eta_{c,c'} * dlogp_{c'}
    q1_c = q0_c * exp(dlog q_c),  revenue = p q,  margin = (p (1 - k_c) - cost) q

``e_c`` is the own-price elasticity of the SKU on channel ``c`` and ``eta_{c,c'}`` the
cross-channel elasticity of channel ``c``'s demand to the same SKU's price on ``c'`` (from
:mod:`.cross`; pooled over SKUs when it has no ``sku`` column). Point values use the estimates;
intervals are quantiles over ``n_draws`` parameter draws from independent normals with the
estimates' standard errors (seeded), so they carry estimation uncertainty, not demand noise.
Rows with channel ``ALL`` sum each SKU over its channels (the net effect after cannibalisation);
their ``price``/``new_price`` are the unit-weighted mean prices before and after.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.elasticity.design import check_panel, drop_free
from channelkit.errors import InputError

BASE_COLUMNS = ["sku", "channel", "price", "units", "unit_cost", "commission_rate"]


def baseline_from_panel(panel: pd.DataFrame, *, window: int = 28, date_col: str = "date") -> pd.DataFrame:
    """Baseline per SKU x channel from the last ``window`` days of a panel.

    ``units`` = mean units per day over the window (days without a row count as 0), ``price`` =
    units-weighted mean paid price over the window (last known price if nothing sold). Rows with
    price 0 (free items) are left out, with a warning giving their count.
    """
    check_panel(panel, columns=[date_col, "sku", "channel", "units", "price"])
    panel, _ = drop_free(panel, what="the baseline (free items are not priced demand)")
    dates = pd.to_datetime(panel[date_col])
    recent = panel[dates > dates.max() - pd.Timedelta(days=window)].copy()
    recent["_rev"] = recent["units"].clip(lower=0) * recent["price"].fillna(0)
    agg = recent.groupby(["sku", "channel"]).agg(units=("units", "sum"), _rev=("_rev", "sum")).reset_index()
    last = panel.assign(_d=dates).dropna(subset=["price"]).sort_values("_d").groupby(["sku", "channel"])["price"].last()
    agg["price"] = np.where(agg["units"] > 0, agg["_rev"] / agg["units"].where(agg["units"] > 0),
                            last.reindex(pd.MultiIndex.from_frame(agg[["sku", "channel"]])).to_numpy())
    agg["units"] = agg["units"].clip(lower=0) / window
    return agg.drop(columns="_rev")


def _new_prices(baseline: pd.DataFrame, changes: pd.DataFrame) -> np.ndarray:
    check_panel(changes, columns=["sku", "channel"], name="changes")
    if not {"new_price", "price_change"} & set(changes.columns):
        raise InputError("`changes` needs a `new_price` or a `price_change` (relative, e.g. -0.05) column")
    keys = pd.MultiIndex.from_frame(baseline[["sku", "channel"]].astype(str))
    ck = pd.MultiIndex.from_frame(changes[["sku", "channel"]].astype(str))
    unknown = ck[~ck.isin(keys)]
    if len(unknown):
        raise InputError(f"`changes` names SKU x channel pairs absent from the baseline: {list(unknown[:5])}")
    p0 = baseline["price"].to_numpy(float)
    if "new_price" in changes.columns:
        new = pd.Series(changes["new_price"].to_numpy(float), index=ck)
    else:
        new = pd.Series(np.nan, index=ck)
    if "price_change" in changes.columns:
        rel = pd.Series(changes["price_change"].to_numpy(float), index=ck)
        base = pd.Series(p0, index=keys).reindex(ck)
        new = new.fillna(base * (1 + rel))
    p1 = new.reindex(keys).to_numpy()
    return np.where(np.isfinite(p1), p1, p0)


def _cross_matrix(cross: pd.DataFrame | None, baseline: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per baseline row pair (i, j) of the same SKU: indices and (estimate, se) of eta_{c_i, c_j}."""
    b = baseline.reset_index(drop=True)
    pairs = b.reset_index().merge(b.reset_index(), on="sku", suffixes=("", "_o"))
    pairs = pairs[pairs["index"] != pairs["index_o"]]
    if cross is None or cross.empty or pairs.empty:
        return np.zeros(0, int), np.zeros(0, int), np.zeros((0, 2))
    on = ["channel", "channel_o"] + (["sku"] if "sku" in cross.columns else [])
    c = cross.rename(columns={"other_channel": "channel_o"})
    m = pairs.merge(c[on + ["elasticity", "se"]], on=on, how="inner")
    vals = m[["elasticity", "se"]].fillna(0.0).to_numpy(float)
    return m["index"].to_numpy(), m["index_o"].to_numpy(), vals


def simulate_scenario(
    changes: pd.DataFrame,
    baseline: pd.DataFrame,
    elasticities: pd.DataFrame,
    *,
    cross: pd.DataFrame | None = None,
    level: float = 0.90,
    n_draws: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Expected change in units, revenue and margin per SKU x channel (and per SKU, channel ``ALL``).

    ``baseline``: ``sku, channel, price, units`` (per period), ``unit_cost, commission_rate``;
    ``elasticities``: ``sku, channel, elasticity, se`` (NaN elasticity: no response assumed and
    flagged); ``changes``: ``sku, channel`` and ``new_price`` or ``price_change``; ``cross``:
    ``channel, other_channel, elasticity, se`` (optionally ``sku``). Output columns: ``sku,
    channel, price, new_price, units, new_units, units_change, revenue_change, margin_change`` and
    ``*_low``/``*_high`` for the last three (``level`` interval), plus ``elasticity_known``.
    """
    check_panel(baseline, columns=BASE_COLUMNS, name="baseline")
    check_panel(elasticities, columns=["sku", "channel", "elasticity", "se"], name="elasticities")
    if not 0 < level < 1:
        raise InputError(f"`level` must satisfy 0 < level < 1, but got {level}")
    b = baseline.reset_index(drop=True).copy()
    b[["sku", "channel"]] = b[["sku", "channel"]].astype(str)
    p1 = _new_prices(b, changes)
    el = elasticities.assign(sku=elasticities["sku"].astype(str), channel=elasticities["channel"].astype(str))
    e = b[["sku", "channel"]].merge(el[["sku", "channel", "elasticity", "se"]], on=["sku", "channel"], how="left")
    known = e["elasticity"].notna().to_numpy()
    rng = np.random.default_rng(seed)
    dlogp = np.log(p1 / b["price"].to_numpy(float))
    e_draw = e["elasticity"].fillna(0).to_numpy()[None, :] + rng.standard_normal((n_draws, len(b))) * e["se"].fillna(0).to_numpy()[None, :]
    e_all = np.vstack([e["elasticity"].fillna(0).to_numpy()[None, :], e_draw])  # row 0: point estimate
    dlogq = e_all * dlogp[None, :]
    i, j, vals = _cross_matrix(cross, b)
    if len(i):
        eta = np.vstack([vals[:, 0][None, :], vals[:, 0][None, :] + rng.standard_normal((n_draws, len(i))) * vals[:, 1][None, :]])
        contrib = eta * dlogp[j][None, :]
        for d in range(dlogq.shape[0]):
            dlogq[d] += np.bincount(i, contrib[d], minlength=len(b))
    return _summarise(b, p1, dlogq, known, level)


def _summarise(b: pd.DataFrame, p1: np.ndarray, dlogq: np.ndarray, known: np.ndarray, level: float) -> pd.DataFrame:
    """Point values (draw 0) and quantile intervals over draws, per row and per SKU total."""
    p0, q0 = b["price"].to_numpy(float), b["units"].to_numpy(float)
    cost, k = b["unit_cost"].to_numpy(float), b["commission_rate"].to_numpy(float)
    q1 = q0[None, :] * np.exp(dlogq)
    measures = {"units_change": q1 - q0, "revenue_change": p1 * q1 - p0 * q0,
                "margin_change": (p1 * (1 - k) - cost) * q1 - (p0 * (1 - k) - cost) * q0}
    lo_q, hi_q = 0.5 - level / 2, 0.5 + level / 2
    codes, skus = pd.factorize(b["sku"])
    rows = b[["sku", "channel", "price"]].assign(new_price=p1, units=q0, new_units=q1[0], elasticity_known=known)
    units0, units1 = np.bincount(codes, q0), np.bincount(codes, q1[0])
    with np.errstate(divide="ignore", invalid="ignore"):  # ALL: unit-weighted mean prices, never NaN
        mean0 = np.where(units0 > 0, np.bincount(codes, p0 * q0) / units0, pd.Series(p0).groupby(codes).mean().to_numpy())
        mean1 = np.where(units1 > 0, np.bincount(codes, p1 * q1[0]) / units1, pd.Series(p1).groupby(codes).mean().to_numpy())
    total = pd.DataFrame({"sku": skus, "channel": "ALL", "price": mean0, "new_price": mean1,
                          "units": units0, "new_units": units1,
                          "elasticity_known": pd.Series(known).groupby(codes).all().to_numpy()})
    for name, m in measures.items():
        rows[name] = m[0]
        rows[f"{name}_low"], rows[f"{name}_high"] = np.quantile(m[1:], [lo_q, hi_q], axis=0)
        tot = np.stack([np.bincount(codes, m[d], minlength=len(skus)) for d in range(m.shape[0])])
        total[name] = tot[0]
        total[f"{name}_low"], total[f"{name}_high"] = np.quantile(tot[1:], [lo_q, hi_q], axis=0)
    return pd.concat([rows, total], ignore_index=True).sort_values(["sku", "channel"], kind="stable").reset_index(drop=True)


def changes_from_parameters(scenario: list[dict], baseline: pd.DataFrame, *, fallback_change: float = -0.05
                            ) -> pd.DataFrame:
    """Turn a notebook's editable scenario (a list of ``{sku, channel, price_change|new_price}``) into
    a ``changes`` frame, keeping the pairs the baseline knows; if none is known, the best-selling
    SKU x channel gets ``fallback_change`` (so a report on another dataset still shows a scenario).
    """
    frame = pd.DataFrame(scenario or [], columns=["sku", "channel", "price_change", "new_price"])
    known = baseline[["sku", "channel"]].astype(str)
    frame = frame.astype({"sku": str, "channel": str}).merge(known, on=["sku", "channel"])
    if frame.empty:
        top = baseline.sort_values("units", ascending=False).iloc[0]
        frame = pd.DataFrame({"sku": [str(top["sku"])], "channel": [str(top["channel"])],
                              "price_change": [fallback_change], "new_price": [np.nan]})
    return frame.dropna(axis=1, how="all")
