"""Journeys from a raw touch log (generic flags and Criteo-style conversion ids), and the CLI."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from channelkit.attribution.paths import path_table
from channelkit.attribution.touches import touch_journeys
from channelkit.cli import main
from channelkit.commands.attribution import read_touch_log
from channelkit.errors import ConfigError, InputError

D = pd.Timestamp("2025-03-01")
COLS = ["path", "conversions", "value", "nulls"]


def _log() -> pd.DataFrame:
    rows = [  # user, day, channel, converted, value; listed out of time order on purpose
        ("A", 2, "email", 1, 100.0), ("A", 0, "search", 0, 0.0), ("A", 1, "social", 0, 0.0),
        ("A", 5, "kol", 0, 0.0), ("A", 6, "search", 1, 50.0), ("A", 8, "display", 0, 0.0),
        ("B", 0, "social", 0, 0.0), ("B", 3, "social", 0, 0.0),
        ("C", 0, "display", 0, 0.0), ("C", 20, "search", 0, 0.0), ("C", 22, "email", 1, 30.0),
        ("D", 1, "search", 1, 20.0),
    ]
    return pd.DataFrame([(u, D + pd.Timedelta(days=d), c, k, v) for u, d, c, k, v in rows],
                        columns=["user", "time", "channel", "converted", "value"])


def _table(journeys: pd.DataFrame) -> pd.DataFrame:
    return path_table(journeys).sort_values("path", ignore_index=True)


def _expected(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLS).astype({c: float for c in COLS[1:]}).sort_values("path", ignore_index=True)


def test_flag_log_by_hand_with_lookback():
    j = touch_journeys(_log(), user_col="user", time_col="time", conversion_col="converted",
                       value_col="value", lookback_days=7)
    # A converts twice (search > social > email, then kol > search) and ends on display (null);
    # B never converts; C's display is 22 days before its conversion: outside 7 days, a null
    expected = _expected([("search > social > email", 1, 100, 0), ("kol > search", 1, 50, 0),
                          ("search > email", 1, 30, 0), ("search", 1, 20, 0), ("display", 0, 0, 2),
                          ("social > social", 0, 0, 1)])
    pd.testing.assert_frame_equal(_table(j), expected)
    assert j.attrs["untouched_conversions"] == 0
    first = j.loc[j["value"] == 100.0].sort_values("position")
    assert first["channel"].tolist() == ["search", "social", "email"]
    assert (first["conversion_ts"] == D + pd.Timedelta(days=2)).all()
    assert "user" not in j.columns and not j.isin(["A", "B", "C", "D"]).any().any()


def test_flag_log_without_lookback_keeps_old_touches():
    j = touch_journeys(_log(), user_col="user", time_col="time", conversion_col="converted", value_col="value")
    expected = _expected([("search > social > email", 1, 100, 0), ("kol > search", 1, 50, 0),
                          ("display > search > email", 1, 30, 0), ("search", 1, 20, 0), ("display", 0, 0, 1),
                          ("social > social", 0, 0, 1)])
    pd.testing.assert_frame_equal(_table(j), expected)


def _id_log() -> pd.DataFrame:
    """Criteo-style: every touch carries its conversion's id (-1: none) and conversion time (seconds)."""
    day = 86400
    rows = [  # uid, timestamp, campaign, conversion, conversion_timestamp, conversion_id
        ("u1", 0 * day, "10", 1, 4 * day, "c1"), ("u1", 1 * day, "20", 1, 4 * day, "c1"),
        ("u1", 2 * day, "30", 1, 9 * day, "c2"),        # interleaved: belongs to the later conversion c2
        ("u1", 3 * day, "10", 1, 4 * day, "c1"),
        ("u1", 6 * day, "20", 0, -1, "-1"),             # after c1, before c2, labelled no conversion: null
        ("u1", 8 * day, "10", 1, 9 * day, "c2"),
        ("u1", 12 * day, "30", 0, -1, "-1"),            # after the last conversion: null
        ("u2", 0 * day, "20", 1, 40 * day, "c3"),       # 40 days before c3: outside a 30-day lookback
        ("u3", 5 * day, "30", 0, -1, "-1"), ("u3", 7 * day, "30", 0, -1, "-1"),
    ]
    return pd.DataFrame(rows, columns=["uid", "timestamp", "campaign", "conversion", "conversion_timestamp",
                                       "conversion_id"])


def test_conversion_ids_by_hand():
    kw = dict(user_col="uid", time_col="timestamp", channel_col="campaign", conversion_col="conversion",
              conversion_id_col="conversion_id", conversion_time_col="conversion_timestamp")
    j = touch_journeys(_id_log(), lookback_days=30, **kw)
    expected = _expected([("10 > 20 > 10", 1, 0, 0), ("30 > 10", 1, 0, 0), ("20", 0, 0, 2), ("30", 0, 0, 1),
                          ("30 > 30", 0, 0, 1)])
    pd.testing.assert_frame_equal(_table(j), expected)
    assert j.attrs["untouched_conversions"] == 1  # c3 has no touch within 30 days
    c2 = j.loc[j["converted"] & (j["channel"] == "30")]
    assert (c2["conversion_ts"] == pd.Timestamp(9 * 86400, unit="s")).all()
    # without the flag column, "-1" ids still mean no conversion; without a lookback c3 counts
    no_flag = {**kw, "conversion_col": None}
    expected_all = _expected([("10 > 20 > 10", 1, 0, 0), ("30 > 10", 1, 0, 0), ("20", 1, 0, 1),
                              ("30", 0, 0, 1), ("30 > 30", 0, 0, 1)])
    pd.testing.assert_frame_equal(_table(touch_journeys(_id_log(), **no_flag)), expected_all)
    numeric = _id_log().assign(conversion_id=lambda d: d["conversion_id"].str.lstrip("c").astype(float))
    pd.testing.assert_frame_equal(_table(touch_journeys(numeric, **no_flag)), expected_all)  # -1.0: none


def test_touch_after_its_conversion_time_does_not_count():
    log = _id_log().iloc[:4].copy()
    log.loc[3, "conversion_timestamp"] = 2 * 86400  # c1 now happens on day 2: the day-3 touch is after it
    log.loc[:1, "conversion_timestamp"] = 2 * 86400
    j = touch_journeys(log, user_col="uid", time_col="timestamp", channel_col="campaign",
                       conversion_id_col="conversion_id", conversion_time_col="conversion_timestamp")
    expected = _expected([("10 > 20", 1, 0, 0), ("30", 1, 0, 0), ("10", 0, 0, 1)])
    pd.testing.assert_frame_equal(_table(j), expected)


def test_bad_input_errors():
    log = _log()
    with pytest.raises(InputError, match="name the conversions"):
        touch_journeys(log, user_col="user", time_col="time")
    with pytest.raises(InputError, match=r"missing column\(s\) \['when'\] \(named by time_col\)"):
        touch_journeys(log, user_col="user", time_col="when", conversion_col="converted")
    with pytest.raises(InputError, match="`converted` must hold 0/1.*'maybe'"):
        touch_journeys(log.assign(converted=["maybe"] + ["0"] * 11), user_col="user", time_col="time",
                       conversion_col="converted")
    with pytest.raises(InputError, match="`time` must hold times.*'soon'"):
        touch_journeys(log.assign(time=list(log["time"].astype(str)[:-1]) + ["soon"]), user_col="user",
                       time_col="time", conversion_col="converted")
    with pytest.raises(InputError, match="`channel` has 1 missing value.*rows \\[3\\]"):
        touch_journeys(log.assign(channel=log["channel"].where(log.index != 3)), user_col="user",
                       time_col="time", conversion_col="converted")
    with pytest.raises(InputError, match="`lookback_days` must be > 0"):
        touch_journeys(log, user_col="user", time_col="time", conversion_col="converted", lookback_days=0)


def _criteo(n_users: int = 300, seed: int = 3) -> pd.DataFrame:
    """A Criteo-shaped impression log: every column of the public file, conversions labelled by id."""
    rng = np.random.default_rng(seed)
    rows, conv_no = [], 0
    for u in range(n_users):
        t = np.sort(rng.integers(0, 30 * 86400, rng.integers(1, 7)))
        converts = rng.random() < 0.4
        conv_ts = int(t[-1]) + 3600 if converts else -1
        if converts:
            conv_no += 1
        for k, ts in enumerate(t):
            rows.append({"timestamp": int(ts), "uid": f"{u:08d}", "campaign": int(rng.choice([101, 202, 303, 404])),
                         "conversion": int(converts), "conversion_timestamp": conv_ts,
                         "conversion_id": conv_no if converts else -1, "attribution": int(converts and k == len(t) - 1),
                         "click": int(rng.random() < 0.3), "cost": 1e-4, "cpo": 0.1 if converts else -1,
                         "time_since_last_click": -1, **{f"cat{i}": rng.integers(0, 99) for i in range(1, 10)}})
    return pd.DataFrame(rows)


CRITEO_ARGS = ["--user-col", "uid", "--time-col", "timestamp", "--channel-col", "campaign", "--conversion-col",
               "conversion", "--conversion-id-col", "conversion_id", "--conversion-time-col", "conversion_timestamp"]


def test_cli_on_criteo_shaped_tsv_gz(tmp_path, capsys):
    log = _criteo()
    src = tmp_path / "criteo_attribution_dataset.tsv.gz"
    with gzip.open(src, "wt", encoding="utf-8") as fh:
        log.to_csv(fh, sep="\t", index=False)
    out, paths_out = tmp_path / "credit.csv", tmp_path / "paths.csv"
    rc = main(["attribution", "--touches", str(src), *CRITEO_ARGS, "--out", str(out),
               "--write-paths", str(paths_out)])
    assert rc == 0, capsys.readouterr().err
    result = pd.read_csv(out)
    n_conv = log.loc[log["conversion"] == 1, "conversion_id"].nunique()
    models = {"first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based",
              "markov_o1", "shapley"}
    assert set(result["model"]) == models
    assert not result.duplicated(["channel", "model"]).any()
    assert len(result) == 4 * len(models) and set(result["channel"]) == {101, 202, 303, 404}
    np.testing.assert_allclose(result.groupby("model")["conversions"].sum(), n_conv)
    paths = pd.read_csv(paths_out)
    assert paths["conversions"].sum() == n_conv
    assert paths["nulls"].sum() == log.loc[log["conversion"] == 0, "uid"].nunique()
    # last touch credit = each conversion's last impression, counted straight from the log
    last = log.loc[log["conversion"] == 1].sort_values("timestamp").groupby("conversion_id")["campaign"].last()
    got = result.loc[result["model"] == "last_touch"].set_index("channel")["conversions"]
    pd.testing.assert_series_equal(got.sort_index(), last.value_counts().sort_index().astype(float),
                                   check_names=False)
    for written in (out, paths_out):  # user ids never leave the log
        text = written.read_text()
        assert not any(uid in text for uid in log["uid"].unique()[:50])


def test_cli_missing_column_lists_the_files_columns(tmp_path, capsys):
    src = tmp_path / "log.csv"
    _criteo(20).to_csv(src, index=False)
    args = ["attribution", "--touches", str(src), *CRITEO_ARGS[:4], "--channel-col", "channel",
            "--conversion-col", "conversion", "--out", str(tmp_path / "o.csv")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "lacks column(s) ['channel'] (named by --channel-col)" in err
    assert "'timestamp', 'uid', 'campaign', 'conversion'" in err and "'cat9'" in err
    with pytest.raises(ConfigError, match=r"lacks column\(s\) \['user'\].*its columns are \['timestamp', 'uid'"):
        read_touch_log(src, {"--user-col": "user"})
    assert main(["attribution", "--touches", str(src), *CRITEO_ARGS[:6], "--out", str(tmp_path / "o.csv")]) == 2
    assert "needs --conversion-col" in capsys.readouterr().err
    _criteo(20).assign(conversion_id=-1).to_csv(src, index=False)  # no conversion id anywhere
    assert main(["attribution", "--touches", str(src), *CRITEO_ARGS[:6], "--conversion-id-col", "conversion_id",
                 "--out", str(tmp_path / "o.csv")]) == 2
    assert "the path table has no conversions" in capsys.readouterr().err


def test_cli_generic_parquet_log_by_hand(tmp_path, capsys):
    src, out = tmp_path / "log.parquet", tmp_path / "credit.csv"
    _log().assign(converted=lambda d: d["converted"].map({1: "yes", 0: "no"})).to_parquet(src)
    rc = main(["attribution", "--touches", str(src), "--user-col", "user", "--time-col", "time",
               "--conversion-col", "converted", "--value-col", "value", "--lookback-days", "7",
               "--models", "last_touch", "first_touch", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert "12 touches -> 7 journeys, 4 converting" in capsys.readouterr().out
    got = pd.read_csv(out).set_index(["model", "channel"])[["conversions", "value"]]
    # last touches: email (A 100, C 30), search (A 50, D 20); first touches within 7 days:
    # search (A 100, C 30, D 20), kol (A 50); every channel of a converting path gets a row
    expected = pd.DataFrame({"model": ["first_touch"] * 4 + ["last_touch"] * 4,
                             "channel": ["email", "kol", "search", "social"] * 2,
                             "conversions": [0.0, 1.0, 3.0, 0.0, 2.0, 0.0, 2.0, 0.0],
                             "value": [0.0, 50.0, 150.0, 0.0, 130.0, 0.0, 70.0, 0.0]})
    pd.testing.assert_frame_equal(got.sort_index(), expected.set_index(["model", "channel"]).sort_index())


def _reference_paths(log: pd.DataFrame, lookback_days: float) -> pd.DataFrame:
    """The flag convention by a plain loop over each user's touches (the obvious reading of it)."""
    rows = []
    for _, user in log.sort_values(["user", "time"], kind="stable").groupby("user", sort=False):
        pending: list[tuple] = []
        for time, channel, converted, value in user[["time", "channel", "converted", "value"]].itertuples(index=False):
            pending.append((time, channel))
            if converted:
                old = [c for t, c in pending if time - t > pd.Timedelta(days=lookback_days)]
                kept = [c for t, c in pending if time - t <= pd.Timedelta(days=lookback_days)]
                rows += [(" > ".join(old), 0, 0.0, 1)] if old else []
                rows.append((" > ".join(kept), 1, value, 0))
                pending = []
        rows += [(" > ".join(c for _, c in pending), 0, 0.0, 1)] if pending else []
    table = pd.DataFrame(rows, columns=COLS).groupby("path", as_index=False).sum()
    return table.astype({c: float for c in COLS[1:]}).sort_values("path", ignore_index=True)


def test_flag_log_agrees_with_a_plain_loop():
    rng = np.random.default_rng(11)
    n = 600
    log = pd.DataFrame({"user": rng.integers(0, 80, n).astype(str), "channel": rng.choice(list("abcd"), n),
                        "time": D + pd.to_timedelta(rng.integers(0, 60 * 24, n), unit="h"),
                        "converted": (rng.random(n) < 0.15).astype(int)})
    log["value"] = np.where(log["converted"] == 1, rng.integers(1, 100, n), 0).astype(float)
    j = touch_journeys(log, user_col="user", time_col="time", conversion_col="converted", value_col="value",
                       lookback_days=5)
    pd.testing.assert_frame_equal(_table(j), _reference_paths(log, 5))
