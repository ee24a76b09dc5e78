"""Cohort retention and Kaplan-Meier repurchase curves: hand-worked examples."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelkit.customers.cohorts import cohort_matrix, cohort_retention, repurchase_curve
from channelkit.errors import InputError


def log(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_ts", "channel"])
    frame["order_ts"] = pd.to_datetime(frame["order_ts"], format="mixed")
    return frame


def monthly() -> pd.DataFrame:
    return log([
        ("A", "2025-01-03", "tmall"), ("A", "2025-02-10", "store"), ("A", "2025-02-20", "store"),
        ("B", "2025-01-15", "tmall"),
        ("C", "2025-01-20", "jd"), ("C", "2025-03-05", "jd"),
        ("D", "2025-02-01", "tmall"), ("D", "2025-03-31", "tmall"), ("D", "2025-04-02", "tmall"),
    ])


def test_cohort_retention_by_first_channel():
    ret = cohort_retention(monthly(), as_of="2025-04-10")
    # April has not ended on 2025-04-10, so only January to March are shown.
    tmall_jan = ret.query("first_channel == 'tmall' and cohort == @pd.Timestamp('2025-01-01')").set_index("age")
    assert list(tmall_jan.index) == [0, 1, 2]
    assert list(tmall_jan["cohort_size"]) == [2, 2, 2]
    assert list(tmall_jan["active"]) == [2, 1, 0]  # A came back in February (in a store), B never
    assert list(tmall_jan["retention"]) == [1.0, 0.5, 0.0]
    jd_jan = ret.query("first_channel == 'jd'").set_index("age")["active"]
    assert list(jd_jan) == [1, 0, 1]
    feb = ret.query("cohort == @pd.Timestamp('2025-02-01')").set_index("age")["active"]
    assert list(feb) == [1, 1]
    full = cohort_retention(monthly(), as_of="2025-04-30")
    assert full.query("cohort == @pd.Timestamp('2025-02-01') and age == 2")["active"].item() == 1


def test_cohort_matrix_pools_channels():
    matrix = cohort_matrix(cohort_retention(monthly(), as_of="2025-04-10"))
    assert matrix.loc["2025-01-01", 0] == 1.0
    assert matrix.loc["2025-01-01", 1] == pytest.approx(1 / 3)
    assert matrix.loc["2025-01-01", 2] == pytest.approx(1 / 3)
    assert matrix.loc["2025-02-01", 1] == 1.0 and np.isnan(matrix.loc["2025-02-01", 2])  # not yet observed
    pooled = cohort_retention(monthly(), as_of="2025-04-10", by_channel=False)
    assert set(pooled["first_channel"]) == {"all"}
    assert pooled.query("cohort == @pd.Timestamp('2025-01-01') and age == 1")["active"].item() == 1
    weekly = cohort_retention(monthly(), as_of="2025-04-10", freq="W", by_channel=False)
    assert weekly["cohort"].min() == pd.Timestamp("2024-12-30")  # the ISO week of 2025-01-03 starts on a Monday


def test_repurchase_curve_is_kaplan_meier():
    # Second purchase after 10 and 30 days (A, C); B and D never came back, observed 20 and 5 days.
    tx = log([
        ("A", "2025-01-01", "tmall"), ("A", "2025-01-01", "store"), ("A", "2025-01-11", "tmall"),
        ("B", "2025-01-11", "tmall"),
        ("C", "2025-01-01", "tmall"), ("C", "2025-01-31", "tmall"),
        ("D", "2025-01-26", "tmall"),
    ])
    curve = repurchase_curve(tx, as_of="2025-01-31", horizon_days=40, by_channel=False).set_index("day")
    # At day 10: 3 at risk (A, B, C; D censored at 5), 1 event -> S = 2/3. At day 30: 1 at risk, 1 event -> 0.
    assert curve.loc[9, "repurchased"] == 0.0
    assert curve.loc[10, "repurchased"] == pytest.approx(1 / 3)
    assert curve.loc[29, "repurchased"] == pytest.approx(1 / 3)
    assert curve.loc[30, "repurchased"] == pytest.approx(1.0)
    assert np.isnan(curve.loc[31, "repurchased"])  # past the longest follow-up
    assert (curve["customers"] == 4).all()
    naive = 2 / 4
    assert curve.loc[30, "repurchased"] > naive  # censoring is not counted as "never returns"


def test_repurchase_curve_by_first_channel_ignores_same_day_orders():
    tx = log([
        ("A", "2025-01-01 10:00", "jd"), ("A", "2025-01-01 18:00", "tmall"),
        ("B", "2025-01-01", "tmall"), ("B", "2025-01-05", "tmall"),
    ])
    curve = repurchase_curve(tx, as_of="2025-01-21", horizon_days=10)
    jd = curve.query("first_channel == 'jd'").set_index("day")["repurchased"]
    tmall = curve.query("first_channel == 'tmall'").set_index("day")["repurchased"]
    assert jd.loc[10] == 0.0  # A's second order was on the same day: not a return
    assert tmall.loc[3] == 0.0 and tmall.loc[4] == 1.0


def test_errors():
    with pytest.raises(InputError, match="`freq` must be one of"):
        cohort_retention(monthly(), freq="D")
    with pytest.raises(InputError, match="`horizon_days` must be a positive integer"):
        repurchase_curve(monthly(), horizon_days=0)
    with pytest.raises(InputError, match=r"missing column\(s\) \['channel'\]"):
        cohort_retention(monthly().drop(columns="channel"))
