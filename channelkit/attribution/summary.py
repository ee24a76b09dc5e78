"""Small tidy views of attribution results for notebooks and reports (no plotting here)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.attribution.paths import split_path


def top_paths(paths: pd.DataFrame, *, n: int = 10) -> pd.DataFrame:
    """The ``n`` paths with most conversions: ``path, touches, conversions, nulls, conversion_rate,
    value`` (conversion rate = conversions / (conversions + nulls))."""
    t = paths.nlargest(n, ["conversions", "nulls"]).copy()
    t["touches"] = t["path"].map(lambda p: len(split_path(p)))
    journeys = t["conversions"] + t["nulls"]
    t["conversion_rate"] = t["conversions"] / journeys.where(journeys > 0)
    return t[["path", "touches", "conversions", "nulls", "conversion_rate", "value"]].reset_index(drop=True)


def path_lengths(paths: pd.DataFrame, *, cap: int = 8) -> pd.DataFrame:
    """Journeys by number of touches (``cap`` and more pooled as ``cap``): ``touches, outcome, journeys``
    with outcome ``converted`` or ``no conversion``, plus ``conversion_rate`` per length."""
    n = paths["path"].map(lambda p: min(len(split_path(p)), cap))
    g = paths.assign(touches=n).groupby("touches")[["conversions", "nulls"]].sum()
    g["conversion_rate"] = g["conversions"] / (g["conversions"] + g["nulls"])
    long = g.reset_index().melt(id_vars=["touches", "conversion_rate"], value_vars=["conversions", "nulls"],
                                var_name="outcome", value_name="journeys")
    long["outcome"] = long["outcome"].map({"conversions": "converted", "nulls": "no conversion"})
    return long


def against_truth(result: pd.DataFrame, true_share: dict[str, float]) -> pd.DataFrame:
    """Each model's share minus the true share: ``channel, model, share, true_share, error``
    (percentage points as fractions), and a per-model ``max_abs_error``."""
    truth = pd.Series(true_share, name="true_share").rename_axis("channel").reset_index()
    out = result[["channel", "model", "share"]].merge(truth, on="channel", how="outer")
    out["share"] = out["share"].fillna(0.0)
    out["error"] = out["share"] - out["true_share"]
    out["max_abs_error"] = out.groupby("model")["error"].transform(lambda e: float(np.abs(e).max()))
    return out.dropna(subset=["model"]).reset_index(drop=True)


def largest_disagreement(result: pd.DataFrame, *, a: str, b: str) -> tuple[str, float]:
    """The channel whose share differs most between models ``a`` and ``b``, and by how much (b - a)."""
    w = result.pivot_table(index="channel", columns="model", values="share", fill_value=0.0)
    diff = w[b] - w[a]
    ch = str(diff.abs().idxmax())
    return ch, float(diff[ch])
