"""Shared plot helpers: Chinese names draw with the bundled font; many channels group as "other"."""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from channelkit.errors import InputError  # noqa: E402
from channelkit.plots import OTHER, OTHER_COLOUR, channel_palette, group_other, other_note, set_style, top_channels  # noqa: E402
from channelkit.plots.fonts import CJK_FAMILY, cjk_font_path  # noqa: E402


def test_chinese_channel_names_draw_without_missing_glyphs(tmp_path, caplog) -> None:
    assert cjk_font_path() is not None, "noto-cjk-sans-otc (a channelkit dependency) is not installed"
    set_style()
    assert CJK_FAMILY in matplotlib.rcParams["font.family"]
    names = ["天猫旗舰店", "京东", "拼多多", "抖音直播", "线下门店", "微信小程序"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.barh(names, [5, 4, 3, 2, 1, 1])
        ax.set_title("天猫旗舰店 brings 31% of net revenue (销售额)")
        fig.savefig(tmp_path / "cjk.png")
        plt.close(fig)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []
    assert "Failed to find font weight" not in caplog.text  # bold titles in Chinese find a face too


def test_without_the_cjk_fallback_the_same_chart_warns(tmp_path) -> None:
    # The check above is meaningful: DejaVu Sans alone has no CJK glyphs and warns.
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig, ax = plt.subplots()
            ax.set_title("京东")
            fig.savefig(tmp_path / "plain.png")
            plt.close(fig)
    assert any("missing from font" in str(w.message) for w in caught)


def _frame() -> pd.DataFrame:
    # 4 channels x 2 days; totals a=40, b=30, c=20, d=10
    rows = [("2025-01-01", "a", 20, 2), ("2025-01-02", "a", 20, 2), ("2025-01-01", "b", 10, 1),
            ("2025-01-02", "b", 20, 1), ("2025-01-01", "c", 5, 1), ("2025-01-02", "c", 15, 1),
            ("2025-01-01", "d", 4, 1), ("2025-01-02", "d", 6, 1)]
    return pd.DataFrame(rows, columns=["date", "channel", "revenue", "orders"])


def test_top_channels_ranks_by_total() -> None:
    assert top_channels(_frame(), max_channels=2) == ["a", "b"]
    assert top_channels(_frame(), max_channels=10) == ["a", "b", "c", "d"]
    with pytest.raises(InputError, match="`max_channels` must be at least 1, but got 0"):
        top_channels(_frame(), max_channels=0)


def test_group_other_sums_the_rest_per_key() -> None:
    out = group_other(_frame(), value_cols=["revenue", "orders"], max_channels=2)
    assert list(out["channel"].unique()) == ["a", "b", OTHER]
    other = out[out["channel"] == OTHER].set_index("date")
    assert other.loc["2025-01-01", "revenue"] == 9 and other.loc["2025-01-02", "revenue"] == 21
    assert other.loc["2025-01-01", "orders"] == 2
    assert out["revenue"].sum() == _frame()["revenue"].sum()
    unchanged = group_other(_frame(), value_cols="revenue", max_channels=4)
    assert set(unchanged["channel"]) == {"a", "b", "c", "d"}
    assert other_note(_frame(), max_channels=2).startswith("The chart names the 2 largest of 4 channels")
    assert other_note(_frame(), max_channels=4) == ""
    assert other_note(_frame(), max_channels=3, summed=False) == (
        "The charts show the 3 largest of 4 channels; the other 1 are in the tables.")


def test_palette_gives_the_largest_channels_distinct_colours() -> None:
    names = [f"store_{i:02d}" for i in range(30)]
    sizes = pd.Series(range(30), index=names, dtype=float)  # store_29 largest
    pal = channel_palette(names, sizes=sizes)
    top = [f"store_{i:02d}" for i in range(29, 19, -1)]  # the 10 largest
    assert len({pal[n] for n in top}) == 10
    assert pal["store_00"] == OTHER_COLOUR and pal[OTHER] == OTHER_COLOUR
    few = channel_palette(["tmall", "jd"])
    assert few["jd"] != few["tmall"]
