"""Bootstrap confidence intervals for every model's channel shares.

The unit of resampling is the journey: a path table with ``n`` journeys (conversions + nulls) is a
multinomial over its (path, converted) cells; each replicate draws ``n`` journeys from it
(``numpy.random.default_rng(seed)``), scales each path's value by its new conversion count, reruns
the models and records each channel's share. Intervals are percentile intervals at ``level``.
``time_decay`` needs touch times: pass the journeys frame and its replicates resample journeys
(every journey, converting or not, equally likely) in the same way.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from channelkit.attribution.compare import attribute
from channelkit.attribution.heuristics import time_decay_weights, touch_weights
from channelkit.attribution.markov import markov
from channelkit.attribution.paths import normalize_paths, require_conversions, split_path
from channelkit.errors import InputError

PATH_ONLY_MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "position_based", "markov", "shapley")


def resample_paths(paths: pd.DataFrame, rng: np.random.Generator, *, keep_empty: bool = False) -> pd.DataFrame:
    """One bootstrap replicate of a normalised path table (same number of journeys); rows that drew
    no journey are dropped unless ``keep_empty`` (then rows stay aligned with ``paths``)."""
    conv = paths["conversions"].to_numpy(float)
    null = paths["nulls"].to_numpy(float)
    cells = np.concatenate([conv, null])
    n = int(round(cells.sum()))
    draw = rng.multinomial(n, cells / cells.sum())
    new_conv, new_null = draw[: len(conv)].astype(float), draw[len(conv):].astype(float)
    per_conv = np.divide(paths["value"].to_numpy(float), conv, out=np.zeros(len(conv)), where=conv > 0)
    out = pd.DataFrame({"path": paths["path"].to_numpy(), "conversions": new_conv,
                        "value": new_conv * per_conv, "nulls": new_null})
    if keep_empty:
        return out
    return out.loc[(out["conversions"] + out["nulls"]) > 0].reset_index(drop=True)


def _linear_weights(paths: pd.DataFrame, model: str, direct_channel: str) -> tuple[sparse.csr_matrix, list[str]]:
    """Paths x channels credit weights of a model that is linear in each path's conversions."""
    if model == "shapley":
        t = paths.loc[paths["conversions"] > 0, ["path"]].copy()
        t["channel"] = t["path"].map(lambda p: sorted(set(split_path(p))))
        t["weight"] = 1.0 / t["channel"].map(len)
        t = t.explode("channel")
        t["row"] = t.index
    else:
        t = touch_weights(paths, model, direct_channel=direct_channel)
    channels = sorted(t["channel"].unique())
    col = pd.Index(channels).get_indexer(t["channel"])
    w = sparse.coo_matrix((t["weight"].to_numpy(float), (t["row"].to_numpy(int), col)),
                          shape=(len(paths), len(channels))).tocsr()
    return w, channels


def _decay_weights(journeys: pd.DataFrame, half_life_days: float) -> tuple[sparse.csr_matrix, list[str], int]:
    """Journeys x channels time-decay weights; converting journeys get the first row numbers."""
    j = time_decay_weights(journeys, half_life_days=half_life_days)
    conv_ids = pd.Index(j["journey"].unique())
    channels = sorted(j["channel"].unique())
    w = sparse.coo_matrix((j["weight"].to_numpy(float), (conv_ids.get_indexer(j["journey"]),
                           pd.Index(channels).get_indexer(j["channel"]))),
                          shape=(len(conv_ids), len(channels))).tocsr()
    return w, channels, int(journeys["journey"].nunique())


def bootstrap_shares(paths: pd.DataFrame, *, models: Sequence[str] | None = None, orders: Sequence[int] = (1,),
                     n_boot: int = 200, level: float = 0.9, seed: int = 7, direct_channel: str = "direct",
                     journeys: pd.DataFrame | None = None, half_life_days: float = 7.0) -> pd.DataFrame:
    """``channel, model, share, share_low, share_high`` (point estimate from the full table).

    ``level`` is the two-sided coverage (0.9 gives the 5th and 95th percentiles). Rule-based models
    and Shapley are linear in each path's conversions, so their replicates are one sparse product;
    Markov chains are refitted on every replicate. ``journeys`` (with touch times) enables
    ``time_decay``, which is included by default when given.
    """
    if not 0 < level < 1:
        raise InputError(f"`level` must satisfy 0 < level < 1, but got {level}")
    if n_boot < 10:
        raise InputError(f"`n_boot` must be at least 10, but got {n_boot}")
    models = list(models or (PATH_ONLY_MODELS + (("time_decay",) if journeys is not None else ())))
    if "time_decay" in models and journeys is None:
        raise InputError("`time_decay` needs touch times: pass `journeys` (from build_journeys) to bootstrap it")
    paths = normalize_paths(paths).reset_index(drop=True)
    require_conversions(paths)
    point = attribute(paths, models=models, orders=orders, direct_channel=direct_channel, journeys=journeys,
                      half_life_days=half_life_days)
    rng = np.random.default_rng(seed)
    linear = {m: _linear_weights(paths, m, direct_channel) for m in models if m not in ("markov", "time_decay")}
    decay = _decay_weights(journeys, half_life_days) if "time_decay" in models else None
    reps = []
    for b in range(n_boot):
        rep = resample_paths(paths, rng, keep_empty=True)
        conv = rep["conversions"].to_numpy(float)
        for m, (w, channels) in linear.items():
            credit = w.T @ conv
            reps.append(pd.DataFrame({"channel": channels, "model": m, "share": credit / credit.sum(),
                                      "replicate": b}))
        if decay is not None:
            w, channels, n_journeys = decay
            # journeys are equally likely, so any len(conv) coordinates of the draw are the
            # converting journeys' counts
            picks = rng.multinomial(n_journeys, np.full(n_journeys, 1.0 / n_journeys))
            credit = w.T @ picks[: w.shape[0]]
            reps.append(pd.DataFrame({"channel": channels, "model": "time_decay", "share": credit / credit.sum(),
                                      "replicate": b}))
        if "markov" in models:
            for k in orders:
                mk = markov(rep.loc[(rep["conversions"] + rep["nulls"]) > 0], order=k)
                reps.append(mk.assign(share=mk["conversions"] / mk["conversions"].sum(), replicate=b)
                            [["channel", "model", "share", "replicate"]])
    allr = pd.concat(reps, ignore_index=True)
    # a channel missing from a replicate had no credit there: its share is 0
    full = (allr.pivot_table(index=["model", "channel"], columns="replicate", values="share", fill_value=0.0)
            .reindex(columns=range(n_boot), fill_value=0.0))
    alpha = (1 - level) / 2
    ci = pd.DataFrame({"share_low": full.quantile(alpha, axis=1), "share_high": full.quantile(1 - alpha, axis=1)})
    out = point[["channel", "model", "share"]].merge(ci.reset_index(), on=["model", "channel"], how="left")
    return out.fillna({"share_low": 0.0, "share_high": 0.0})
