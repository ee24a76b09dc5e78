"""RFM scores and segments: hand-worked scores, the rule table's coverage, named cells."""
from __future__ import annotations

import itertools

import pandas as pd
import pytest

from channelkit.customers.rfm import (
    SEGMENT_RULES,
    assign_segments,
    quintile_score,
    rfm_table,
    segment_rules,
    segment_summary,
)
from channelkit.errors import InputError


def test_quintile_score_ties_share_the_lowest_rank():
    values = pd.Series([1, 1, 1, 2, 3])
    # rank_min = 1,1,1,4,5 -> 1 + floor(5 * (0,0,0,3,4) / 5)
    assert list(quintile_score(values)) == [1, 1, 1, 4, 5]
    assert list(quintile_score(pd.Series([0, 10, 20, 30, 40]), higher_is_better=False)) == [5, 4, 3, 2, 1]
    shuffled = pd.Series([3, 1, 2, 1, 1])
    assert list(quintile_score(shuffled)) == [5, 1, 4, 1, 1]  # row order does not matter
    ten = quintile_score(pd.Series(range(10)))
    assert list(ten) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_rules_cover_every_score_cell_and_name_the_classic_ones():
    cells = pd.DataFrame(list(itertools.product(range(1, 6), repeat=3)), columns=["r", "f", "m"])
    segments = assign_segments(cells)
    assert (segments != "other").all()
    named = dict(zip(cells["r"].astype(str) + cells["f"].astype(str) + cells["m"].astype(str), segments))
    assert named["555"] == "champions" and named["444"] == "champions"
    assert named["333"] == "loyal" and named["534"] == "loyal"
    assert named["511"] == "new" and named["515"] == "new"
    assert named["421"] == "potential_loyalist"
    assert named["311"] == "promising" and named["321"] == "need_attention"
    assert named["155"] == "cant_lose" and named["153"] == "at_risk" and named["231"] == "at_risk"
    assert named["211"] == "about_to_sleep" and named["121"] == "hibernating" and named["111"] == "lost"
    table = segment_rules()
    assert list(table["segment"]) == [rule[0] for rule in SEGMENT_RULES]
    assert table.loc[0].to_dict() == {"segment": "champions", "r": "4-5", "f": "4-5", "m": "4-5",
                                      "description": "bought recently, buy often, spend the most"}


def transactions() -> pd.DataFrame:
    rows = []
    # Five customers; customer k buys k times, the last one k days before 2025-06-30, spending 10*k each.
    for k in range(1, 6):
        for j in range(k):
            rows.append((f"C{k}", pd.Timestamp("2025-06-30") - pd.Timedelta(days=(5 - k) * 30 + j * 2), 10.0 * k))
    return pd.DataFrame(rows, columns=["customer_id", "order_ts", "revenue"])


def test_rfm_table_hand_worked():
    rfm = rfm_table(transactions(), as_of="2025-06-30").set_index("customer_id")
    assert list(rfm["frequency"]) == [1, 2, 3, 4, 5]
    assert list(rfm["recency_days"]) == [120, 90, 60, 30, 0]
    assert list(rfm["monetary"]) == [10.0, 40.0, 90.0, 160.0, 250.0]
    assert list(rfm["rfm"]) == ["111", "222", "333", "444", "555"]
    assert list(rfm["segment"].astype(str)) == ["lost", "about_to_sleep", "loyal", "champions", "champions"]
    later = rfm_table(transactions(), as_of="2025-07-10").set_index("customer_id")
    assert later.loc["C5", "recency_days"] == 10
    earlier = rfm_table(transactions(), as_of="2025-03-02")
    assert list(earlier["customer_id"]) == ["C1"]  # the others bought first after as_of


def test_segment_summary_aggregates_without_ids():
    rfm = rfm_table(transactions(), as_of="2025-06-30")
    summary = segment_summary(rfm).set_index("segment")
    assert "customer_id" not in summary.reset_index().columns
    assert summary.loc["champions", "customers"] == 2 and summary.loc["champions", "value"] == 410.0
    assert summary.loc["champions", "share_value"] == pytest.approx(410 / 550)
    assert summary["share_customers"].sum() == pytest.approx(1.0)
    assert list(summary.index) == ["champions", "loyal", "about_to_sleep", "lost"]  # rule-table order


def test_errors():
    with pytest.raises(InputError, match="missing column"):
        rfm_table(transactions().rename(columns={"order_ts": "date"}))
    with pytest.raises(InputError, match="no purchases on or before"):
        rfm_table(transactions(), as_of="2020-01-01")
    with pytest.raises(InputError, match="missing column 'f'"):
        assign_segments(pd.DataFrame({"r": [1], "m": [1]}))
