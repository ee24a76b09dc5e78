"""The data overview behind 00_data_overview, on the hand-made minimal dataset."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.data import daily_sales, load_dataset
from channelkit.data.overview import clip_dates, data_quality, revenue_by_channel_month, table_overview
from minimal_data import write_dataset


@pytest.fixture()
def dataset(tmp_path):
    return load_dataset(write_dataset(tmp_path / "shop", drop=("touchpoints",)))


def test_table_overview_counts_rows_and_marks_absent_tables(dataset) -> None:
    ov = table_overview(dataset).set_index("table")
    assert ov.loc["orders", "rows"] == 6
    assert ov.loc["orders", "first"] == pd.Timestamp("2025-06-11 10:00:00")
    assert ov.loc["orders", "last"] == pd.Timestamp("2025-06-12 21:15:00")
    assert not ov.loc["touchpoints", "present"] and ov.loc["touchpoints", "rows"] == 0


def test_revenue_by_channel_month_is_net_of_refunds_and_cancellations(dataset) -> None:
    monthly = revenue_by_channel_month(daily_sales(dataset)).set_index("channel")
    # tmall: paid 2*18 + 1*10 = 46; the refunded line (1*20) is a sale and its return, net 0;
    # the cancelled line (5*15) never counts
    assert monthly.loc["tmall", "revenue"] == pytest.approx(46.0)
    # app: 3*20 + 4*8 = 92
    assert monthly.loc["app", "revenue"] == pytest.approx(92.0)
    assert (monthly["month"] == pd.Timestamp("2025-06-01")).all()


def test_data_quality_reports_status_shares_and_anonymous_lines(dataset) -> None:
    q = data_quality(dataset).set_index("check")["value"]
    assert q["cancelled order lines"] == pytest.approx(1 / 6)
    assert q["refunded order lines"] == pytest.approx(1 / 6)
    assert q["missing customer_id"] == pytest.approx(1 / 6)
    assert q["distinct customers"] == 3
    assert "missing channel" not in q.index  # an event without channel applies to all channels


def test_clip_dates_keeps_both_ends() -> None:
    frame = pd.DataFrame({"date": pd.date_range("2025-01-01", periods=5)})
    assert len(clip_dates(frame, "2025-01-02", "2025-01-04")) == 3
    assert len(clip_dates(frame, None, None)) == 5
