"""Channel names are kept whole through journeys, path tables, files and every model.

Names with the path separator ``>``, ``,``, ``;``, quotes, a backslash, markup and Chinese: each
must come out as the same single channel, with the credit a plain name would get.
"""
from __future__ import annotations

import pandas as pd
import pytest

from channelkit.attribution.compare import attribute
from channelkit.attribution.paths import build_journeys, join_path, path_table, read_paths, split_path, write_paths
from channelkit.cli import main

HOSTILE = ["a>b", "x,y", "p;q", '"quoted"', "it's", "天猫>旗舰店", "back\\slash>", "<img src=x onerror=alert(1)>"]
PLAIN = [f"c{i}" for i in range(len(HOSTILE))]


def touches_and_orders(names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customer k touches names[k % n] then names[(k + 1) % n]; every other customer orders."""
    n, rows, orders = len(names), [], []
    day = pd.Timestamp("2025-05-01")
    for k in range(40):
        rows += [(f"u{k}", day + pd.Timedelta(hours=1), names[k % n]),
                 (f"u{k}", day + pd.Timedelta(hours=2), names[(k + 1) % n])]
        if k % 2 == 0:
            orders.append((f"o{k}", f"u{k}", day + pd.Timedelta(hours=3), "s1", 1, 10.0 + k))
    touches = pd.DataFrame(rows, columns=["customer_id", "ts", "channel"])
    return touches, pd.DataFrame(orders, columns=["order_id", "customer_id", "order_ts", "sku", "units", "unit_price"])


def test_escaped_paths_round_trip():
    assert split_path(join_path(HOSTILE)) == HOSTILE
    assert split_path("a\\>b > c") == ["a>b", "c"]
    assert split_path("a > b>c") == ["a", "b", "c"]  # unescaped `>` still separates, spaces or not


def test_every_model_keeps_hostile_names_whole_and_credits_them_like_plain_names(tmp_path):
    results = {}
    for names in (HOSTILE, PLAIN):
        touches, orders = touches_and_orders(names)
        journeys = build_journeys(touches, orders, lookback_days=30)
        paths = path_table(journeys)
        file = write_paths(paths, tmp_path / "paths.csv")
        again = read_paths(file)
        pd.testing.assert_frame_equal(again.sort_values("path", ignore_index=True),
                                      paths.sort_values("path", ignore_index=True), check_dtype=False)
        result = attribute(again, orders=(1, 2), journeys=journeys)
        assert set(result["channel"]) == set(names)
        results[tuple(names)] = result
    rename = dict(zip(HOSTILE, PLAIN))
    hostile = results[tuple(HOSTILE)].assign(channel=lambda f: f["channel"].map(rename))
    key = ["model", "channel"]
    merged = hostile.merge(results[tuple(PLAIN)], on=key, suffixes=("_h", "_p"))
    assert len(merged) == len(hostile) == len(results[tuple(PLAIN)])
    assert merged["conversions_h"].to_numpy() == pytest.approx(merged["conversions_p"].to_numpy())
    assert merged["value_h"].to_numpy() == pytest.approx(merged["value_p"].to_numpy())


def test_touch_log_cli_keeps_names_whole(tmp_path):
    touches, orders = touches_and_orders(HOSTILE)
    converted = touches.merge(orders[["customer_id"]].assign(converted=1), on="customer_id", how="left")
    last = converted.groupby("customer_id")["ts"].transform("max") == converted["ts"]
    converted["converted"] = (converted["converted"].fillna(0).astype(int) * last).astype(int)
    log = tmp_path / "log.csv"
    converted.to_csv(log, index=False, encoding="gb18030")  # a GBK export, quoted where needed
    out, paths = tmp_path / "credit.csv", tmp_path / "paths.csv"
    assert main(["attribution", "--touches", str(log), "--user-col", "customer_id", "--conversion-col", "converted",
                 "--out", str(out), "--write-paths", str(paths), "--models", "last_touch", "markov"]) == 0
    credit = pd.read_csv(out)
    assert set(credit["channel"]) == set(HOSTILE)
    assert credit.groupby("model")["conversions"].sum().to_numpy() == pytest.approx([20.0, 20.0])
    assert main(["attribution", "--paths", str(paths), "--out", str(out), "--models", "linear"]) == 0
    assert set(pd.read_csv(out)["channel"]) == set(HOSTILE)
