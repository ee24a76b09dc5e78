"""Run several attribution models on one path table and stack their results side by side."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from channelkit.attribution import heuristics
from channelkit.attribution.markov import markov
from channelkit.attribution.paths import normalize_paths, require_conversions
from channelkit.attribution.shapley import shapley
from channelkit.errors import InputError

MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based",
          "markov", "shapley")
PATH_MODELS = {
    "first_touch": heuristics.first_touch,
    "last_touch": heuristics.last_touch,
    "linear": heuristics.linear,
    "position_based": heuristics.position_based,
}


def attribute(paths: pd.DataFrame, *, models: Sequence[str] | None = None, orders: Sequence[int] = (1,),
              journeys: pd.DataFrame | None = None, direct_channel: str = "direct",
              half_life_days: float = 7.0, max_step: int | None = None) -> pd.DataFrame:
    """Long frame ``channel, model, conversions, value, share`` for every requested model.

    ``models`` default: every model the data allow (``time_decay`` only when ``journeys`` with
    touch times are given). Markov rows are labelled ``markov_o{k}`` for each k in ``orders``.
    ``share`` is the channel's share of the model's attributed conversions. ``max_step`` is passed
    to :func:`~channelkit.attribution.markov.markov` (``None``: untruncated chain).
    """
    paths = normalize_paths(paths)
    require_conversions(paths)
    if models is None:
        models = [m for m in MODELS if m != "time_decay" or journeys is not None]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise InputError(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    parts = []
    for name in models:
        if name in PATH_MODELS:
            parts.append(PATH_MODELS[name](paths))
        elif name == "last_non_direct":
            parts.append(heuristics.last_non_direct(paths, direct_channel=direct_channel))
        elif name == "time_decay":
            if journeys is None:
                raise InputError("model `time_decay` needs journeys with touch times (build them with "
                                 "build_journeys, or pass --data DIR on the command line)")
            parts.append(heuristics.time_decay(journeys, half_life_days=half_life_days))
        elif name == "markov":
            parts.extend(markov(paths, order=k, max_step=max_step).drop(columns="removal_effect") for k in orders)
        else:
            parts.append(shapley(paths))
    out = pd.concat(parts, ignore_index=True)
    out["share"] = out["conversions"] / out.groupby("model")["conversions"].transform("sum")
    return out.sort_values(["model", "channel"], ignore_index=True)


def shares_wide(result: pd.DataFrame) -> pd.DataFrame:
    """Channels x models table of conversion shares from :func:`attribute`."""
    return result.pivot_table(index="channel", columns="model", values="share", fill_value=0.0)
