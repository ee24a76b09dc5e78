"""Forecast metrics against hand-worked examples and utilsforecast's reference implementation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from utilsforecast import losses as ufl

from channelkit.errors import InputError
from channelkit.metrics import forecast as fm


@pytest.fixture()
def worked() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One series: history 1,3,2,4,3,5 (m = 2), test actuals 4,6 forecast 5,5, 80% bounds."""
    hist = pd.DataFrame({"sku": "A", "channel": "tmall", "date": pd.date_range("2025-01-01", periods=6),
                         "units": [1.0, 3, 2, 4, 3, 5]})
    test = pd.DataFrame({"sku": "A", "channel": "tmall", "date": pd.date_range("2025-01-07", periods=2),
                         "actual": [4.0, 6.0], "m1": [5.0, 5.0], "lo_80": [3.0, 5.5], "hi_80": [6.0, 7.0],
                         "m1_q": [3.0, 7.0]})
    return hist, test


def test_mase_worked_example(worked):
    hist, test = worked
    # MAE = (1 + 1) / 2 = 1; seasonal (m=2) diffs of history: |2-1|,|4-3|,|3-2|,|5-4| -> mean 1.
    assert fm.mase(test, ["m1"], hist, season_length=2)["m1"].item() == pytest.approx(1.0)
    # m = 1 diffs: 2,1,2,1,2 -> mean 1.6, MASE = 1 / 1.6
    assert fm.mase(test, ["m1"], hist, season_length=1)["m1"].item() == pytest.approx(1 / 1.6)


def test_rmsse_worked_example(worked):
    hist, test = worked
    # MSE = 1; one-step naive squared diffs 4,1,4,1,4 -> mean 2.8; RMSSE = sqrt(1 / 2.8) (M5).
    assert fm.rmsse(test, ["m1"], hist)["m1"].item() == pytest.approx(np.sqrt(1 / 2.8))


def test_wape_bias_coverage_pinball_worked_example(worked):
    _, test = worked
    assert fm.wape(test, ["m1"])["m1"].item() == pytest.approx(2 / 10)
    assert fm.bias(test, ["m1"])["m1"].item() == pytest.approx(0.0)  # +1 and -1
    # 4 in [3, 6]; 6 in [5.5, 7]: both covered. Shift the first bound to miss one.
    assert fm.coverage(test, ["forecast"], 80)["forecast"].item() == pytest.approx(1.0)
    assert fm.coverage(test.assign(lo_80=[4.5, 5.5]), ["forecast"], 80)["forecast"].item() == pytest.approx(0.5)
    # q = 0.9 on quantile forecasts 3, 7: errors y - yq = 1, -1 -> 0.9 and 0.1 -> mean 0.5
    assert fm.pinball(test, {"m1": "m1_q"}, 0.9)["m1"].item() == pytest.approx(0.5)


def _reference_frames(seed: int = 3):
    rng = np.random.default_rng(seed)
    rows, hist = [], []
    for uid in ("a", "b", "c"):
        h = pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2025-01-01", periods=30), "y": rng.poisson(6, 30) * 1.0})
        hist.append(h)
        for cut in (pd.Timestamp("2025-01-24"), pd.Timestamp("2025-01-27")):
            rows.append(pd.DataFrame({"unique_id": uid, "cutoff": cut, "ds": pd.date_range(cut, periods=3, freq="D") + pd.Timedelta(days=1),
                                      "y": rng.poisson(6, 3) * 1.0, "m": rng.normal(6, 1, 3), "m-lo-80": 3.0, "m-hi-80": 8.0}))
    return pd.concat(rows, ignore_index=True), pd.concat(hist, ignore_index=True)


def test_agrees_with_utilsforecast():
    cv, hist = _reference_frames()
    ours = cv.rename(columns={"unique_id": "sku", "ds": "date", "y": "actual", "m-lo-80": "m_lo_80", "m-hi-80": "m_hi_80"})
    hist_ours = hist.rename(columns={"unique_id": "sku", "ds": "date", "y": "units"})
    kw = dict(id_cols=["sku"])
    pairs = [
        (fm.mase(ours, ["m"], hist_ours, season_length=7, **kw), ufl.mase(cv, ["m"], seasonality=7, train_df=hist)),
        (fm.rmsse(ours, ["m"], hist_ours, season_length=1, **kw), ufl.rmsse(cv, ["m"], seasonality=1, train_df=hist)),
        (fm.wape(ours, ["m"], **kw), ufl.wape(cv, ["m"])),
        (fm.bias(ours, ["m"], **kw), ufl.bias(cv, ["m"])),
        (fm.coverage(ours, ["m"], 80, **kw), ufl.coverage(cv, ["m"], level=80)),
        (fm.pinball(ours, {"m": "m"}, 0.3, **kw), ufl.quantile_loss(cv, {"m": "m"}, q=0.3)),
    ]
    for mine, ref in pairs:
        ref = ref.sort_values(["unique_id", "cutoff"])
        np.testing.assert_allclose(mine["m"].to_numpy(), ref["m"].to_numpy(dtype=float), rtol=1e-10)


def test_evaluate_table(worked):
    hist, test = worked
    frame = test.assign(cutoff=pd.Timestamp("2025-01-06"), m1_lo_80=[3.0, 5.5], m1_hi_80=[4.5, 5.9])
    table = fm.evaluate(frame, ["m1"], hist, season_length=2, levels=(80,), interval_models=["m1"])
    row = table.set_index("model").loc["m1"]
    assert row["mase"] == pytest.approx(1.0)
    assert row["rmsse"] == pytest.approx(np.sqrt(1 / 2.8))
    assert row["wape"] == pytest.approx(0.2)
    assert row["coverage_80"] == pytest.approx(0.5)  # 4 in [3, 4.5]; 6 not in [5.5, 5.9]


def test_errors_name_the_problem(worked):
    hist, test = worked
    with pytest.raises(InputError, match=r"missing column\(s\) \['m2'\]"):
        fm.mae(test, ["m2"])
    with pytest.raises(InputError, match="`q` must satisfy 0 < q < 1, but got 1.5"):
        fm.pinball(test, {"m1": "m1_q"}, 1.5)
    with pytest.raises(InputError, match=r"missing id column\(s\) \['store'\]"):
        fm.wape(test, ["m1"], id_cols=["store"])
