"""RFM scores (recency, frequency, monetary) and named customer segments.

Measures, per customer, from purchases up to ``as_of`` (inclusive):

- ``recency_days``: days from the last purchase day to ``as_of`` (0 = bought on ``as_of``);
- ``frequency``: number of purchases (orders) in the period;
- ``monetary``: total net spend in the period.

Scores 1-5 (5 best; for recency, 5 = most recent). A customer's score is the quintile of the
share of customers who are strictly worse: ``score = 1 + floor(5 * (rank_min - 1) / n)``, with
``rank_min`` the rank (ties share the lowest rank) in the direction where higher is better.
Tied customers therefore always get the same score, whatever the row order, and the many
one-order customers of a typical shop all get ``F = 1`` instead of being split at random.

Segments follow the widely used R x F grid of CRM practice (M separates champions and the
"can't lose" group). The rules are tried in order and the first match wins; together they cover
every (R, F, M) cell, so ``other`` only appears if the table is changed. ``SEGMENT_RULES`` holds
the table:

==================  =====  =====  =====  =============================================
segment             R      F      M      reading
==================  =====  =====  =====  =============================================
champions           4-5    4-5    4-5    bought recently, buy often, spend the most
loyal               3-5    3-5    3-5    buy regularly with good spend
new                 4-5    1      1-5    first purchase was recent
potential_loyalist  4-5    2-5    1-5    recent, bought more than once
promising           3      1      1-5    bought once, not long ago
need_attention      3      2-5    1-5    repeaters slipping from recent
cant_lose           1      4-5    4-5    were top customers, long gone
at_risk             1-2    3-5    1-5    bought often, but not lately
about_to_sleep      2      1-2    1-5    few purchases, fading
hibernating         1      2      1-5    few purchases, long ago
lost                1      1      1-5    one purchase, long ago
==================  =====  =====  =====  =============================================
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from channelkit.customers._validate import DAY_NS, prepare
from channelkit.errors import InputError

# (segment, (R lo, R hi), (F lo, F hi), (M lo, M hi), description). Order matters: first match wins.
SEGMENT_RULES: tuple[tuple[str, tuple[int, int], tuple[int, int], tuple[int, int], str], ...] = (
    ("champions", (4, 5), (4, 5), (4, 5), "bought recently, buy often, spend the most"),
    ("loyal", (3, 5), (3, 5), (3, 5), "buy regularly with good spend"),
    ("new", (4, 5), (1, 1), (1, 5), "first purchase was recent"),
    ("potential_loyalist", (4, 5), (2, 5), (1, 5), "recent, bought more than once"),
    ("promising", (3, 3), (1, 1), (1, 5), "bought once, not long ago"),
    ("need_attention", (3, 3), (2, 5), (1, 5), "repeaters slipping from recent"),
    ("cant_lose", (1, 1), (4, 5), (4, 5), "were top customers, long gone"),
    ("at_risk", (1, 2), (3, 5), (1, 5), "bought often, but not lately"),
    ("about_to_sleep", (2, 2), (1, 2), (1, 5), "few purchases, fading"),
    ("hibernating", (1, 1), (2, 2), (1, 5), "few purchases, long ago"),
    ("lost", (1, 1), (1, 1), (1, 5), "one purchase, long ago"),
)
SEGMENTS: tuple[str, ...] = tuple(rule[0] for rule in SEGMENT_RULES) + ("other",)


def segment_rules() -> pd.DataFrame:
    """The segment rule table as a frame (``segment, r, f, m, description``), for documentation."""
    return pd.DataFrame(
        [(s, f"{r[0]}-{r[1]}", f"{f[0]}-{f[1]}", f"{m[0]}-{m[1]}", d) for s, r, f, m, d in SEGMENT_RULES],
        columns=["segment", "r", "f", "m", "description"],
    )


def quintile_score(values: pd.Series, *, higher_is_better: bool = True, bins: int = 5) -> pd.Series:
    """Score 1..``bins`` = ``1 + floor(bins * (rank_min - 1) / n)``; ties share the lowest rank.

    ``higher_is_better=False`` scores small values best (recency in days).
    """
    if len(values) == 0:
        return pd.Series([], dtype=int, index=values.index)
    signed = values if higher_is_better else -values
    rank_min = signed.rank(method="min")
    return (1 + np.floor(bins * (rank_min - 1) / len(values))).astype(int)


def rfm_table(
    transactions: pd.DataFrame,
    *,
    as_of: object = None,
    customer_col: str = "customer_id",
    date_col: str = "order_ts",
    amount_col: str = "revenue",
) -> pd.DataFrame:
    """Recency, frequency, monetary, their 1-5 scores and the named segment, per customer.

    Uses purchases up to ``as_of`` (inclusive; default: the last purchase in the log). Columns:
    ``customer_id, recency_days, frequency, monetary, r, f, m, rfm`` (e.g. ``"545"``),
    ``segment``. See the module docstring for the scoring and the rule table.
    """
    tx = prepare(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col, as_of=as_of)
    as_of_day = tx.as_of.normalize().value // DAY_NS
    # Integer customer codes (ordered like the ids): no grouping on strings.
    last_day = np.full(len(tx.ids), np.iinfo(np.int64).min)
    np.maximum.at(last_day, tx.codes, tx.days)
    out = pd.DataFrame({
        "customer_id": tx.ids,
        "recency_days": as_of_day - last_day,
        "frequency": np.bincount(tx.codes, minlength=len(tx.ids)).astype(np.int64),
        "monetary": pd.Series(tx.amount).groupby(tx.codes, sort=True).sum().to_numpy(),  # compensated sum
    })
    out["r"] = quintile_score(out["recency_days"], higher_is_better=False)
    out["f"] = quintile_score(out["frequency"])
    out["m"] = quintile_score(out["monetary"])
    # "545" etc. from a lookup of the 125 labels, not three string conversions per customer.
    out["rfm"] = _RFM_LABELS[out["r"].to_numpy() * 100 + out["f"].to_numpy() * 10 + out["m"].to_numpy()]
    out["segment"] = assign_segments(out)
    return out


_RFM_LABELS = np.array([str(i) for i in range(1000)], dtype=object)


def assign_segments(scores: pd.DataFrame, *, r: str = "r", f: str = "f", m: str = "m") -> pd.Series:
    """Name each row's segment from its 1-5 scores with :data:`SEGMENT_RULES` (first match wins)."""
    for col in (r, f, m):
        if col not in scores.columns:
            raise InputError(f"`scores` is missing column '{col}' (1-5 scores); it has {list(scores.columns)}")
    conditions = [
        scores[r].between(*rr) & scores[f].between(*fr) & scores[m].between(*mr)
        for _, rr, fr, mr, _ in SEGMENT_RULES
    ]
    names = [rule[0] for rule in SEGMENT_RULES]
    labels = np.select(conditions, names, default="other")
    return pd.Series(pd.Categorical(labels, categories=list(SEGMENTS)), index=scores.index, name="segment")


def segment_summary(rfm: pd.DataFrame, *, value_col: str = "monetary") -> pd.DataFrame:
    """Size and value per segment (aggregates only, no ids), in rule-table order.

    Columns: ``segment, customers, share_customers, value`` (sum of ``value_col``),
    ``share_value``, ``value_per_customer``, ``mean_recency_days``, ``mean_frequency``. Pass
    ``value_col="clv"`` on a frame that carries each customer's CLV to size segments by future value.
    """
    for col in ("segment", value_col, "recency_days", "frequency"):
        if col not in rfm.columns:
            raise InputError(f"`rfm` is missing column '{col}'; build it with rfm_table(...)")
    out = rfm.groupby("segment", observed=False).agg(
        customers=(value_col, "size"), value=(value_col, "sum"),
        mean_recency_days=("recency_days", "mean"), mean_frequency=("frequency", "mean"),
    )
    out = out.loc[out["customers"] > 0]
    if isinstance(out.index, pd.CategoricalIndex):  # charts must not show empty segments
        out.index = out.index.remove_unused_categories()
    out["share_customers"] = out["customers"] / out["customers"].sum()
    out["share_value"] = out["value"] / out["value"].sum()
    out["value_per_customer"] = out["value"] / out["customers"]
    return out.reset_index()[["segment", "customers", "share_customers", "value", "share_value",
                              "value_per_customer", "mean_recency_days", "mean_frequency"]]
