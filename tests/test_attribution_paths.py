"""Journeys from touchpoints and orders, and the path table's read/write formats."""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.attribution.compare import attribute
from channelkit.attribution.paths import build_journeys, normalize_paths, path_table, read_paths, write_paths
from channelkit.errors import InputError

D = pd.Timestamp("2025-03-01")


def _touchpoints() -> pd.DataFrame:
    rows = [
        ("C1", D + pd.Timedelta(days=2), "b"),     # listed out of time order on purpose
        ("C1", D, "a"),
        ("C1", D + pd.Timedelta(days=10), "c"),    # after C1's first order, 40 days before the next
        ("C2", D, "a"),                            # 40 days before C2's order: outside the lookback
        ("V1", D + pd.Timedelta(days=1), "b"),
        ("V1", D + pd.Timedelta(days=1, hours=1), "b"),
    ]
    return pd.DataFrame(rows, columns=["customer_id", "ts", "channel"])


def _orders() -> pd.DataFrame:
    rows = [
        ("O1", "s1", D + pd.Timedelta(days=3), "C1", 2, 50.0, "paid"),
        ("O1", "s2", D + pd.Timedelta(days=3), "C1", 1, 30.0, "paid"),
        ("O1", "s3", D + pd.Timedelta(days=3), "C1", 1, 99.0, "cancelled"),  # cancelled line: no value
        ("O3", "s1", D + pd.Timedelta(days=50), "C1", 1, 10.0, "paid"),
        ("O2", "s1", D + pd.Timedelta(days=40), "C2", 1, 20.0, "paid"),
        ("O4", "s1", D + pd.Timedelta(days=5), None, 1, 20.0, "paid"),       # anonymous walk-in
    ]
    return pd.DataFrame(rows, columns=["order_id", "sku", "order_ts", "customer_id", "units", "unit_price", "status"])


def test_build_journeys_by_hand():
    j = build_journeys(_touchpoints(), _orders(), lookback_days=30)
    table = path_table(j).set_index("path")
    # C1: a, b before O1 (value 2*50 + 30 = 130); c is 40 days before O3: a null journey;
    # C2: a is 40 days before O2: null; V1: b > b never converts. O2 and O3 have no touch in time.
    assert table.loc["a > b"].tolist() == [1.0, 130.0, 0.0]
    assert table.loc["c"].tolist() == [0.0, 0.0, 1.0]
    assert table.loc["a"].tolist() == [0.0, 0.0, 1.0]
    assert table.loc["b > b"].tolist() == [0.0, 0.0, 1.0]
    assert len(table) == 4
    assert j.attrs["untouched_conversions"] == 2
    conv = j.loc[j["converted"]]
    assert conv["channel"].tolist() == ["a", "b"]  # sorted by time whatever the input order
    assert (conv["conversion_ts"] == D + pd.Timedelta(days=3)).all()


def test_lookback_and_untouched_rule():
    j = build_journeys(_touchpoints(), _orders(), lookback_days=45, untouched="direct", direct_channel="direct")
    table = path_table(j).set_index("path")
    # with 45 days, C1's c reaches O3 and C2's a reaches O2; no order is left untouched
    assert table.loc["c", "conversions"] == 1 and table.loc["c", "value"] == 10.0
    assert table.loc["a", "conversions"] == 1
    assert "direct" not in table.index
    j30 = build_journeys(_touchpoints(), _orders(), lookback_days=30, untouched="direct")
    t30 = path_table(j30).set_index("path")
    assert t30.loc["direct"].tolist() == [2.0, 30.0, 0.0]  # O2 (20) and O3 (10) as direct paths


def test_unknown_channels_and_bad_options():
    with pytest.raises(InputError, match="channel\\(s\\) not in `channels`: \\['c'\\]"):
        build_journeys(_touchpoints(), _orders(), channels=["a", "b"])
    with pytest.raises(InputError, match="`untouched` must be 'drop' or 'direct'"):
        build_journeys(_touchpoints(), _orders(), untouched="keep")
    with pytest.raises(InputError, match="`lookback_days` must be > 0, but got 0"):
        build_journeys(_touchpoints(), _orders(), lookback_days=0)
    with pytest.raises(InputError, match="missing column\\(s\\) \\['ts'\\]"):
        build_journeys(_touchpoints().drop(columns="ts"), _orders())


def test_read_semicolon_csv_with_channelattribution_columns(tmp_path):
    f = tmp_path / "paths.csv"
    f.write_text("path;total_conversions;total_conversion_value;total_null\n"
                 "search > social;3;300;7\nsearch>social;1;50;0\nemail;0;0;4\n", encoding="utf-8")
    t = read_paths(f).set_index("path")
    # "search>social" is the same path as "search > social": the rows are summed
    assert t.loc["search > social"].tolist() == [4.0, 350.0, 7.0]
    assert t.loc["email"].tolist() == [0.0, 0.0, 4.0]


def test_parquet_and_csv_round_trip(tmp_path):
    t = normalize_paths(pd.DataFrame({"path": ["a > b", "b"], "conversions": [2, 1], "value": [20.0, 5.0],
                                      "nulls": [1, 3]}))
    for name in ("p.parquet", "p.csv"):
        back = read_paths(write_paths(t, tmp_path / name))
        pd.testing.assert_frame_equal(back, t, check_dtype=False)


def test_path_table_errors(tmp_path):
    with pytest.raises(InputError, match="needs columns `path` and `conversions`"):
        normalize_paths(pd.DataFrame({"route": ["a"], "conversions": [1]}))
    with pytest.raises(InputError, match="column `nulls` must hold numbers >= 0; bad rows for paths \\['b'\\]"):
        normalize_paths(pd.DataFrame({"path": ["a", "b"], "conversions": [1, 1], "nulls": [0, -2]}))
    with pytest.raises(InputError, match="path table file not found"):
        read_paths(tmp_path / "missing.csv")
    empty = pd.DataFrame({"path": ["a", "a > b"], "conversions": [0, 0], "nulls": [5, 2]})
    with pytest.raises(InputError, match="no conversions \\(2 paths, 7 null journeys\\)"):
        attribute(empty)
    with pytest.raises(InputError, match="unknown model\\(s\\) \\['lastclick'\\]"):
        attribute(normalize_paths(pd.DataFrame({"path": ["a"], "conversions": [1]})), models=["lastclick"])


class _FakeDataset:
    """The three attributes dataset_journeys reads from a loaded Dataset."""

    def __init__(self, touchpoints: pd.DataFrame, orders: pd.DataFrame, channels: pd.DataFrame) -> None:
        self.touchpoints, self.orders, self.channels = touchpoints, orders, channels

    def require(self, name: str, *, analysis: str | None = None) -> pd.DataFrame:
        return getattr(self, name)


def test_dataset_journeys_checks_marketing_channels_and_period():
    from channelkit.attribution.paths import dataset_journeys

    channels = pd.DataFrame({"channel": ["a", "b", "c", "tmall"], "kind": ["marketing"] * 3 + ["sales"]})
    ds = _FakeDataset(_touchpoints(), _orders(), channels)
    t = path_table(dataset_journeys(ds, start="2025-03-02")).set_index("path")
    # from 2 March on, C1's journey to O1 keeps only b; C2's touch on 1 March is gone
    assert t.loc["b", "conversions"] == 1 and "a" not in t.index
    ds.channels = channels.iloc[[0, 1, 3]]
    with pytest.raises(InputError, match="not in `channels`: \\['c'\\]"):
        dataset_journeys(ds)


def test_unreadable_touch_timestamps():
    tp = _touchpoints().astype({"ts": str})
    tp.loc[2, "ts"] = "yesterday"
    with pytest.raises(InputError, match="column `ts` has 1 missing or unreadable timestamps, e.g. \\['yesterday'\\]"):
        build_journeys(tp, _orders())
