"""The sample retailer: determinism, the shape issue 4 asks for, and that the data carry their truth."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from channelkit.cli import main as cli_main
from channelkit.data.sample import generate, load_truth
from channelkit.errors import InputError

# Variance of daily units relative to their mean from the order-line sizes (E[size^2]/E[size] <= 2
# for the sample's 1-3 unit lines), plus the negative-binomial term mu^2 / 20 (truth "orders").
LINE_VARIANCE_FACTOR = 2.0


def _read(folder: Path, truth: dict, table: str) -> pd.DataFrame:
    path = folder / truth["files"][table]
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def tables(sample_dir: Path, sample_truth: dict) -> dict[str, pd.DataFrame]:
    return {name: _read(sample_dir, sample_truth, name) for name in sample_truth["files"]}


@pytest.fixture(scope="module")
def panel(tables: dict, sample_truth: dict) -> pd.DataFrame:
    """Daily units and shelf price per SKU x channel on every day (0 units on days without sales).

    Units count every order line: statuses are drawn independently of demand, so all lines together
    have expectation lambda. The shelf price of a day without sales is carried from the nearest day.
    """
    orders = tables["orders"].assign(date=lambda o: pd.to_datetime(o["order_ts"]).dt.normalize())
    g = orders.groupby(["sku", "channel", "date"]).agg(units=("units", "sum"), shelf=("list_price", "mean"),
                                                       paid=("unit_price", "mean"))
    dates = pd.date_range(sample_truth["start"], sample_truth["end"], freq="D")
    full = pd.MultiIndex.from_product([g.index.levels[0], g.index.levels[1], dates], names=g.index.names)
    p = g.reindex(full).reset_index()
    p["units"] = p["units"].fillna(0.0)
    p["shelf"] = p.groupby(["sku", "channel"])["shelf"].transform(lambda s: s.ffill().bfill())
    return p


def _irregular_days(events: pd.DataFrame, channel: str) -> set:
    """Festival days, the channel's promotion days and the 7 days after each (the pull-forward dip)."""
    ev = events.assign(date=pd.to_datetime(events["date"]))
    bad = set(ev.loc[ev["kind"] == "festival", "date"])
    for day in ev.loc[(ev["kind"] == "promotion") & (ev["channel"] == channel), "date"]:
        bad |= {day + pd.Timedelta(days=k) for k in range(8)}
    return bad


# --- determinism -----------------------------------------------------------------------------------

def test_same_seed_same_bytes(sample_dir: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", seed=7, scale="small")
    assert _hashes(again) == _hashes(sample_dir)


def test_cli_other_seed_gives_other_data_and_csv_loads(sample_dir: Path, sample_truth: dict, tmp_path: Path) -> None:
    from channelkit.data import load_dataset

    out = tmp_path / "seed8"
    assert cli_main(["sample", "--out", str(out), "--seed", "8", "--format", "csv", "--no-progress"]) == 0
    truth8 = load_truth(out)
    assert truth8["seed"] == 8 and truth8["files"]["orders"] == "orders.csv"
    e7 = [r["elasticity"] for r in sample_truth["elasticity"]]
    e8 = [r["elasticity"] for r in truth8["elasticity"]]
    assert np.mean(np.abs(np.subtract(e7, e8))) > 0.1
    assert truth8["rows"]["orders"] != sample_truth["rows"]["orders"]
    ds = load_dataset(out)  # the CSV variant also passes the contract
    assert len(ds.orders) == truth8["rows"]["orders"]


# --- shape (issue 4 point 6) -------------------------------------------------------------------------

def test_channels_products_and_calendar(tables: dict, sample_truth: dict) -> None:
    ch = tables["channels"]
    sales = ch.loc[ch["kind"] == "sales", "channel"]
    assert len(sales) >= 4
    mkt = tables["marketing"]
    assert mkt["channel"].nunique() >= 5 and (mkt["spend"] > 0).all()
    assert (mkt["clicks"] <= mkt["impressions"]).all() and (mkt["sessions"] <= mkt["clicks"]).all()
    assert len(mkt) == mkt["channel"].nunique() * 731  # every day for every paid channel
    prod = tables["products"]
    assert len(prod) >= 30 and prod["category"].nunique() >= 4
    orders = tables["orders"]
    ts = pd.to_datetime(orders["order_ts"])
    assert ts.min() < pd.Timestamp("2024-01-02") and ts.max() >= pd.Timestamp("2025-12-31")
    assert set(orders["channel"]) == set(sales)
    assert orders.groupby(["sku", "channel"]).ngroups == len(prod) * len(sales)
    kinds = set(tables["events"]["kind"])
    assert kinds == {"festival", "holiday", "promotion"}
    assert {"spring_festival", "618", "double11", "double12"} <= set(tables["events"]["event"])


def test_orders_customers_and_statuses(tables: dict) -> None:
    orders = tables["orders"]
    assert not orders.duplicated(["order_id", "sku"]).any()
    assert (orders.groupby("order_id").size() > 1).mean() > 0.05  # multi-SKU baskets exist
    per_order = orders.drop_duplicates("order_id")
    share = per_order["status"].value_counts(normalize=True)
    assert 0.01 < share["cancelled"] < 0.03 and 0.02 < share["refunded"] < 0.04
    known = per_order.dropna(subset=["customer_id"])
    assert known["customer_id"].str.fullmatch(r"C\d{7,}").all()
    stats = known.groupby("customer_id").agg(n=("order_id", "size"), channels=("channel", "nunique"))
    assert (stats["n"] >= 2).mean() > 0.2  # customers come back
    assert (stats["channels"] >= 2).mean() > 0.05  # ... and on other channels
    offline = per_order[per_order["channel"] == "offline_stores"]
    assert 0.3 < offline["customer_id"].isna().mean() < 0.6
    assert per_order.loc[per_order["channel"] != "offline_stores", "customer_id"].notna().all()
    # paid price = shelf price x (1 - discount), to the cent
    assert np.allclose(orders["unit_price"], np.round(orders["list_price"] * (1 - orders["discount"]), 2), atol=0.011)


def test_inventory_has_shortages_and_overstock(tables: dict, sample_truth: dict) -> None:
    inv = tables["inventory"].merge(pd.DataFrame(sample_truth["inventory"]), on=["sku", "lead_time_days"])
    assert inv["lead_time_days"].between(7, 45).all()
    cover = inv["on_hand"] / (inv["daily_demand"] * inv["lead_time_days"])
    assert (cover < 1).any() and (cover > 3).any()


def test_price_variation_identifies_elasticities(panel: pd.DataFrame) -> None:
    """The median over series of the within-series sd of the log paid price (days with sales) is in
    the 0.15-0.25 the design asks for (it is a median of 160 draws: a wide margin is not needed)."""
    sd = panel.dropna(subset=["paid"]).assign(lp=lambda p: np.log(p["paid"])).groupby(["sku", "channel"])["lp"].std()
    assert 0.15 < sd.median() < 0.25
    assert (sd > 0.08).all()  # no series without price variation


# --- the data carry their truth ----------------------------------------------------------------------

def _design(s: pd.DataFrame) -> pd.DataFrame:
    """Controls: day-of-week dummies, one yearly Fourier pair, a linear trend (years), and log price."""
    x = pd.get_dummies(s["date"].dt.dayofweek, prefix="dow", drop_first=True).astype(float)
    angle = 2 * np.pi * s["date"].dt.dayofyear / 365.25
    x = x.assign(cos=np.cos(angle), sin=np.sin(angle), t=(s["date"] - s["date"].min()).dt.days / 365.25)
    return sm.add_constant(x.assign(log_price=np.log(s["shelf"])))


def _identification(s: pd.DataFrame) -> float:
    """sum(units) x variance of log price left after the controls: the inverse of the expected
    sampling variance of a Poisson elasticity estimate, up to overdispersion."""
    x = _design(s)
    controls, lp = x.drop(columns="log_price").to_numpy(), x["log_price"].to_numpy()
    resid = lp - controls @ np.linalg.lstsq(controls, lp, rcond=None)[0]
    return float(s["units"].sum() * resid.var())


def test_loglinear_poisson_fit_recovers_elasticity(panel: pd.DataFrame, tables: dict, sample_truth: dict) -> None:
    """Poisson regression of daily units on log price with day-of-week, yearly Fourier and trend
    controls, on regular days (festivals, the channel's promotions and their dips left out; on those
    days the paid price equals the shelf price), for the best-identified series. Tolerance: 4 robust
    (HC0) standard errors of the estimate."""
    regular = {ch: _irregular_days(tables["events"], ch) for ch in panel["channel"].unique()}
    fits = {}
    for (sku, channel), s in panel.groupby(["sku", "channel"]):
        fits[(sku, channel)] = s[~s["date"].isin(regular[channel])]
    sku, channel = max(fits, key=lambda k: _identification(fits[k]))
    s = fits[(sku, channel)]
    fit = sm.GLM(s["units"], _design(s), family=sm.families.Poisson()).fit(cov_type="HC0")
    truth = {(r["sku"], r["channel"]): r["elasticity"] for r in sample_truth["elasticity"]}[(sku, channel)]
    est, se = fit.params["log_price"], fit.bse["log_price"]
    assert se < 0.25, "the best series should pin the elasticity down"
    assert abs(est - truth) < 4 * se, (sku, channel, est, se, truth)


def _media_multiplier(truth: dict, channel: str, dates: pd.Series) -> np.ndarray:
    """The day's factor from ad spend on the channel's expected units (online channels only)."""
    if channel not in ("tmall", "jd", "douyin_live", "own_app"):
        return np.ones(len(dates))
    day = (dates - pd.Timestamp(truth["start"])).dt.days.to_numpy()
    return np.asarray(truth["media"]["online_multiplier"])[day]


def _festival_lift(panel: pd.DataFrame, tables: dict, truth: dict, channel: str, days: list,
                   discounts: dict) -> tuple[float, float]:
    """Estimate a festival multiplier on ``days`` and its standard error.

    For each SKU, its base level is the ratio sum(units) / sum(g) over the regular days from 7 weeks
    before the first to 3 weeks after the last of ``days``, where g = weekly x yearly x trend x (paid / reference) ** elasticity from the truth;
    times the day's media multiplier (``truth["media"]["online_multiplier"]``) on online channels;
    the expected units on a festival day without the festival are base x g(day). The multiplier is
    sum(observed) / sum(expected) over SKUs and ``days``; its SE comes from the delta method with the
    variance model var(units) = 2 mu + mu^2 / 20.
    """
    seas, cats = truth["seasonality"], tables["products"].set_index("sku")["category"]
    elas = pd.DataFrame(truth["elasticity"]).set_index(["sku", "channel"])["elasticity"]
    ser = pd.DataFrame(truth["series"]).set_index(["sku", "channel"])
    lo, hi = min(days) - pd.Timedelta(days=49), max(days) + pd.Timedelta(days=21)
    s = panel[(panel["channel"] == channel) & panel["date"].between(lo, hi)].copy()
    cat = s["sku"].map(cats)
    key = pd.MultiIndex.from_arrays([s["sku"], s["channel"]])
    doy, dow = s["date"].dt.dayofyear, s["date"].dt.dayofweek.to_numpy()
    disc = s["date"].map(discounts).fillna(0.0)
    paid = np.round(s["shelf"] * (1 - disc), 2)
    t = (s["date"] - pd.Timestamp(truth["start"])).dt.days / 365.25
    s["g"] = (np.asarray(seas["weekly"][channel])[dow]
              * np.exp(cat.map(seas["yearly_amplitude"])
                       * np.cos(2 * np.pi * (doy - cat.map(seas["yearly_peak_day"])) / 365.25))
              * np.exp(ser["growth"].reindex(key).to_numpy() * t)
              * (paid / ser["reference_price"].reindex(key).to_numpy()) ** elas.reindex(key).to_numpy()
              * _media_multiplier(truth, channel, s["date"]))
    base = s[~s["date"].isin(_irregular_days(tables["events"], channel))].groupby("sku")
    level = base["units"].sum() / base["g"].sum()
    on = s[s["date"].isin(days)]
    expected = on["g"] * on["sku"].map(level)
    num, den = on["units"].sum(), expected.sum()
    var = LINE_VARIANCE_FACTOR * s["units"] + s["units"] ** 2 / truth["orders"]["line_dispersion"]
    var_num = var[on.index].sum()
    weight = on.groupby("sku")["g"].sum() / base["g"].sum()  # d(expected) / d(sum of base units), per SKU
    var_den = (weight**2 * var[base.obj.index].groupby(s["sku"]).sum()).sum()
    m = num / den
    return m, m * np.sqrt(var_num / num**2 + var_den / den**2)


@pytest.mark.parametrize("channel", ["tmall", "jd"])
def test_double11_peak_shows_its_lift(panel, tables, sample_truth, channel) -> None:
    peaks = [pd.Timestamp(2024, 11, 11), pd.Timestamp(2025, 11, 11)]
    discounts = {pd.Timestamp(r["end"]): r["discount"] for r in sample_truth["festival_discounts"]
                 if r["event"] == "double11" and r["channel"] == channel}
    m, se = _festival_lift(panel, tables, sample_truth, channel, peaks, discounts)
    truth = sample_truth["festival_channel_multipliers"][channel]["double11"]["peak"]
    assert truth > 3  # the year's largest day
    assert abs(m - truth) < 4 * se, (m, se, truth)
    assert se < 0.1 * truth


def test_spring_festival_courier_pause(panel, tables, sample_truth) -> None:
    cal = tables["events"].assign(date=lambda e: pd.to_datetime(e["date"]))
    from channelkit.data.calendar import festival_calendar

    fc = festival_calendar(sample_truth["start"], sample_truth["end"])
    pause = list(fc.loc[(fc["event"] == "spring_festival") & (fc["phase"] == "pause"), "date"])
    assert len(pause) == 20 and set(pause) <= set(cal["date"])
    m, se = _festival_lift(panel, tables, sample_truth, "tmall", pause, {})
    truth = sample_truth["festival_channel_multipliers"]["tmall"]["spring_festival"]["pause"]
    assert truth < 0.5
    assert abs(m - truth) < 4 * se, (m, se, truth)


def test_promotion_truth_matches_the_orders(panel: pd.DataFrame, sample_truth: dict) -> None:
    """Units drawn over all promotion windows agree with the truth's expected units (Poisson-type
    tolerance), and incremental = expected - baseline > 0 for every promotion."""
    promos = pd.DataFrame(sample_truth["promotions"])
    assert len(promos) >= 3 * 2 * 5  # 3+ per channel per year
    assert np.allclose(promos["incremental_units"], promos["expected_units"] - promos["baseline_units"], atol=0.01)
    assert (promos["incremental_units"] > 0).all()
    drawn = 0.0
    for r in promos.itertuples():
        sel = (panel["channel"] == r.channel) & panel["date"].between(pd.Timestamp(r.start), pd.Timestamp(r.end))
        drawn += panel.loc[sel, "units"].sum()
    expected = promos["expected_units"].sum()
    sd = np.sqrt(LINE_VARIANCE_FACTOR * expected + (promos["expected_units"] ** 2).sum() / 20 / 10)
    assert abs(drawn - expected) < 4 * sd, (drawn, expected, sd)


# --- contract and errors -----------------------------------------------------------------------------

def test_sample_validates_through_the_loader(sample_dataset, sample_truth: dict) -> None:
    for name, rows in sample_truth["rows"].items():
        assert len(getattr(sample_dataset, name)) == rows, name


def test_truth_keys_documented(sample_truth: dict) -> None:
    import channelkit.data.sample as sample

    for key in ("seed", "scale", "start", "end", "currency", "elasticity", "cross_channel_elasticity",
                "promotions", "festivals", "seasonality", "attribution", "customers"):
        assert key in sample_truth
        assert f"``{key}``" in sample.__doc__, key
    assert sample_truth["currency"] == "CNY" and sample_truth["end"] == "2025-12-31"
    assert set(sample_truth["attribution"]["true_share"]) >= {"search", "social", "kol", "email_sms"}


def test_bad_arguments_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="`scale` must be one of .* got 'huge'"):
        generate(tmp_path, scale="huge")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="`fmt` must be .* got 'xlsx'"):
        generate(tmp_path, fmt="xlsx")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no truth.json in"):
        load_truth(tmp_path)
    assert cli_main(["sample", "--out", str(tmp_path), "--seed", "-3"]) == 2
