"""Raw transaction logs shaped like UCI Online Retail II: lines, invoices, cancellations, gaps.

The hand-built log below has multi-line invoices, two invoices on one day, times of day,
cancellations (``C`` invoices with negative quantity, one on the day of its sale, one days
later), a free line, a day with only a free line, and lines without a customer id. Expected
frequency / recency / T / monetary value are worked out by hand next to the rows. They are also
what lifetimes 0.11.3 ``summary_data_from_transaction_data(clean, "Customer ID", "InvoiceDate",
monetary_value_col="amount")`` returns on the cleaned lines (checked when this test was written;
lifetimes is a benchmark extra, not installed for the tests).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from channelkit.cli import main
from channelkit.customers import rfm_summary
from channelkit.customers.log import customer_ids, parse_log_dates, purchases_from_log
from channelkit.errors import InputError

COLUMNS = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
LINES = [
    # 12346: 01-04 two invoices (7.00 + 5.00 and 5.00 = 17.00), 01-11 (6.00 + 4.00 = 10.00),
    # cancellation of 4.00 on 01-12 (a later day), 01-25 (8.50).
    ("489434", "85048", "LED CANDLE", 2, "2010-01-04 09:15:00", 3.50, 12346.0, "United Kingdom"),
    ("489434", "79323P", "PINK HEART", 1, "2010-01-04 09:15:00", 5.00, 12346.0, "United Kingdom"),
    ("489500", "22041", "RECORD FRAME", 4, "2010-01-04 15:40:00", 1.25, 12346.0, "United Kingdom"),
    ("489600", "21232", "STRAWBERRY MUG", 3, "2010-01-11 10:00:00", 2.00, 12346.0, "United Kingdom"),
    ("489600", "22064", "PINK DOUGHNUT", 1, "2010-01-11 10:00:00", 4.00, 12346.0, "United Kingdom"),
    ("C489601", "22064", "PINK DOUGHNUT", -1, "2010-01-12 11:00:00", 4.00, 12346.0, "United Kingdom"),
    ("489700", "21871", "SAVE THE PLANET", 10, "2010-01-25 12:30:00", 0.85, 12346.0, "United Kingdom"),
    # 12347: 01-05 (12.60); 02-01 15.00 + 2 x 5.00 + a free line = 25.00, cancellation of 5.00 the same day.
    ("489435", "22350", "CAT BOWL", 6, "2010-01-05 08:05:00", 2.10, 12347.0, "Iceland"),
    ("489800", "22195", "HEART LANTERN", 1, "2010-02-01 13:00:00", 15.00, 12347.0, "Iceland"),
    ("489800", "22353", "LUNCHBOX", 2, "2010-02-01 13:00:00", 5.00, 12347.0, "Iceland"),
    ("489800", "POST", "POSTAGE", 1, "2010-02-01 13:00:00", 0.00, 12347.0, "Iceland"),
    ("C489801", "22353", "LUNCHBOX", -1, "2010-02-01 16:45:00", 5.00, 12347.0, "Iceland"),
    # 12348: 01-06 (13.20); 02-10 only a free sample: a purchase of 0.00 (as lifetimes counts it).
    ("489436", "21755", "BUILDING BLOCK", 24, "2010-01-06 10:10:00", 0.55, 12348.0, "Finland"),
    ("489900", "SAMPLE", "FREE SAMPLE", 1, "2010-02-10 09:00:00", 0.00, 12348.0, "Finland"),
    # No customer id: dropped, counted.
    ("489437", "22111", "HOT WATER BOTTLE", 2, "2010-01-06 11:00:00", 4.95, None, "United Kingdom"),
    ("489437", "21733", "T-LIGHT HOLDER", 6, "2010-01-06 11:00:00", 2.95, None, "United Kingdom"),
    # 12349: 01-10 (20.00), 01-31 (30.00), 02-14 at 23:59 (25.00), the last day of the log.
    ("489438", "22423", "CAKE STAND", 1, "2010-01-10 18:30:00", 20.00, 12349.0, "Germany"),
    ("489950", "22423", "CAKE STAND", 1, "2010-01-31 07:00:00", 30.00, 12349.0, "Germany"),
    ("489990", "84879", "BIRD ORNAMENT", 2, "2010-02-14 23:59:00", 12.50, 12349.0, "Germany"),
]
# Hand-worked summary, observation end 2010-02-14 (the last line's day), returns dropped:
# customer: (frequency, recency days, T days, mean spend per repeat day)
EXPECTED_DROP = {
    "12346": (2, 21, 41, (10.00 + 8.50) / 2),
    "12347": (1, 27, 40, 25.00),
    "12348": (1, 35, 39, 0.0),
    "12349": (2, 35, 35, (30.00 + 25.00) / 2),
}


@pytest.fixture()
def log() -> pd.DataFrame:
    frame = pd.DataFrame(LINES, columns=COLUMNS)
    return frame.assign(InvoiceDate=pd.to_datetime(frame["InvoiceDate"]))


def _summary(log: pd.DataFrame, *, time_unit: str = "D", period: str = "D", **options) -> pd.DataFrame:
    purchases, _ = purchases_from_log(log, customer_col="Customer ID", date_col="InvoiceDate", amount_col=None,
                                      quantity_col="Quantity", price_col="Price", invoice_col="Invoice",
                                      cancel_prefix="C", **options)
    return rfm_summary(purchases, time_unit=time_unit, period=period).set_index("customer_id")


def _assert_summary(summary: pd.DataFrame, expected: dict) -> None:
    assert list(summary.index) == list(expected)
    for customer, (frequency, recency, T, monetary) in expected.items():
        row = summary.loc[customer]
        assert row["frequency"] == frequency, customer
        assert row["recency"] == recency and row["T"] == T, customer
        assert row["monetary_value"] == pytest.approx(monetary, abs=1e-12), customer


def test_online_retail_lines_give_hand_worked_summary(log):
    purchases, counts = purchases_from_log(log, customer_col="Customer ID", date_col="InvoiceDate",
                                           amount_col=None, quantity_col="Quantity", price_col="Price",
                                           invoice_col="Invoice", cancel_prefix="C")
    assert counts == {"rows": 19, "no_customer": 2, "cancelled_lines": 2, "negative_lines": 0,
                      "purchases": 10, "customers": 4}
    day_one = purchases.loc[(purchases["customer_id"] == "12346") & (purchases["order_ts"] == "2010-01-04")]
    assert day_one["revenue"].tolist() == pytest.approx([17.0]) and day_one["lines"].tolist() == [3]
    _assert_summary(_summary(log), EXPECTED_DROP)


def test_weekly_unit_is_days_over_seven(log):
    """lifetimes ``freq="D", freq_multiplier=7`` (the published CDNOW convention): same days, in weeks."""
    purchases, _ = purchases_from_log(log, customer_col="Customer ID", date_col="InvoiceDate", amount_col=None,
                                      quantity_col="Quantity", price_col="Price")
    weekly = rfm_summary(purchases, time_unit="W").set_index("customer_id")
    assert weekly.loc["12349", "recency"] == pytest.approx(35 / 7) and weekly.loc["12346", "T"] == pytest.approx(41 / 7)


def test_netting_returns_changes_only_the_days_they_are_booked_on(log):
    purchases, counts = purchases_from_log(log, customer_col="Customer ID", date_col="InvoiceDate",
                                           amount_col=None, quantity_col="Quantity", price_col="Price",
                                           invoice_col="Invoice", cancel_prefix="C", returns="net")
    assert counts["returned_lines"] == 2
    # 12346's later cancellation makes 01-12 a -4.00 day: undone, not a purchase (12348's free day stays).
    assert counts["returned_days"] == 1 and counts["purchases"] == 10
    expected = {**EXPECTED_DROP, "12347": (1, 27, 40, 25.00 - 5.00)}  # same-day cancellation nets
    _assert_summary(_summary(log, returns="net"), expected)


def test_negative_quantity_is_a_return_without_an_invoice_prefix(log):
    drop = purchases_from_log(log, customer_col="Customer ID", date_col="InvoiceDate", amount_col=None,
                              quantity_col="Quantity", price_col="Price")[1]
    assert drop["cancelled_lines"] == 0 and drop["negative_lines"] == 2 and drop["purchases"] == 10
    # An amount column carries the sign itself: a negative amount is a return.
    priced = log.assign(amount=log["Quantity"] * log["Price"])
    _, counts = purchases_from_log(priced, customer_col="Customer ID", date_col="InvoiceDate", amount_col="amount")
    assert counts["negative_lines"] == 2 and counts["purchases"] == 10


def test_ids_dates_and_bad_options():
    ids = customer_ids(pd.Series([12346.0, np.nan, 7.0]))
    assert ids.tolist()[0] == "12346" and ids.isna().tolist() == [False, True, False] and ids.iloc[2] == "7"
    assert customer_ids(pd.Series(["13085.0", " ", None, "13085.0 "])).tolist()[0] == "13085"
    assert customer_ids(pd.Series(["A-1", " "])).isna().tolist() == [False, True]
    stamps = parse_log_dates(pd.Series(["01/12/2009 07:45", "13/12/2009 18:02"]), dayfirst=True)
    assert stamps.tolist() == [pd.Timestamp("2009-12-01 07:45"), pd.Timestamp("2009-12-13 18:02")]
    with pytest.raises(InputError, match=r"'InvoiceDate' has dates that read day-first: pass --dayfirst.*13/12/2009"):
        parse_log_dates(pd.Series(["01/12/2009 07:45", "13/12/2009 18:02"]), date_col="InvoiceDate")
    with pytest.raises(InputError, match=r"must hold dates, but 2 value\(s\) do not parse: \['soon', '\(missing\)'\]"):
        parse_log_dates(pd.Series(["2010-01-04", "soon", None]), date_col="InvoiceDate")
    with pytest.raises(InputError, match=r"column 'd' mixes time zones or offsets"):
        parse_log_dates(pd.Series(["2010-12-01 08:26:00+00:00", "2010-12-13"]), date_col="d")
    assert parse_log_dates(pd.Series([19970101, 19971231])).tolist() == [pd.Timestamp("1997-01-01"),
                                                                      pd.Timestamp("1997-12-31")]
    frame = pd.DataFrame({"c": ["a"], "d": ["2010-01-04"], "q": [1], "p": ["x"]})
    with pytest.raises(InputError, match=r"column 'p' must hold numbers.*\['x'\]"):
        purchases_from_log(frame, customer_col="c", date_col="d", amount_col=None, quantity_col="q", price_col="p")
    with pytest.raises(InputError, match=r"name the spend.*quantity_col='q', price_col=None"):
        purchases_from_log(frame, customer_col="c", date_col="d", amount_col=None, quantity_col="q")
    with pytest.raises(InputError, match=r"`cancel_prefix` \('C'\) needs .*`invoice_col`"):
        purchases_from_log(frame, customer_col="c", date_col="d", amount_col="q", cancel_prefix="C")
    with pytest.raises(InputError, match=r"`returns` must be 'drop' or 'net', but got 'keep'"):
        purchases_from_log(frame, customer_col="c", date_col="d", amount_col="q", returns="keep")
    with pytest.raises(InputError, match=r"missing column\(s\) \['Customer ID'\]"):
        purchases_from_log(frame, customer_col="Customer ID", date_col="d", amount_col="q")


def _shop_log(seed: int = 11, customers: int = 200) -> pd.DataFrame:
    """A seeded Online-Retail-shaped log from a BG/NBD process (gamma purchase rates, beta dropout):
    several invoices on some days, several lines an invoice, some lines cancelled days later, free
    lines, and lines without a customer id."""
    rng = np.random.default_rng(seed)
    rows, invoice, start = [], 500000, pd.Timestamp("2010-01-01")
    for customer in range(12400, 12400 + customers):
        rate, dropout = rng.gamma(0.8, 0.03), rng.beta(1.0, 4.0)
        day, days = float(rng.uniform(0, 150)), []
        while day < 365:
            days.append(int(day))
            if rng.random() < dropout:
                break
            day += rng.exponential(1 / rate)
        for day in days:
            for _ in range(1 + (rng.random() < 0.2)):
                invoice += 1
                stamp = start + pd.Timedelta(days=day, minutes=int(rng.integers(420, 1200)))
                cid = None if rng.random() < 0.05 else float(customer)
                for _ in range(1 + rng.poisson(1.5)):
                    qty, price = int(rng.integers(1, 13)), float(rng.choice([0.0, 0.85, 1.25, 2.95, 4.95]))
                    rows.append((str(invoice), "X", "ITEM", qty, stamp, price, cid, "United Kingdom"))
                    if rng.random() < 0.05:  # cancelled up to 3 days later
                        later = stamp + pd.Timedelta(days=int(rng.integers(0, 4)))
                        rows.append((f"C{invoice}", "X", "ITEM", -qty, later, price, cid, "United Kingdom"))
    return pd.DataFrame(rows, columns=COLUMNS)


def _direct_summary(log: pd.DataFrame, *, end: pd.Timestamp, freq: str = "D") -> pd.DataFrame:
    """The lifetimes recipe written out with pandas periods: clean lines, sum per customer-period
    (``freq`` "D" days, "W" Monday-Sunday weeks), drop the first period from frequency and spend."""
    clean = log.loc[log["Customer ID"].notna() & ~log["Invoice"].str.startswith("C") & (log["Quantity"] > 0)]
    clean = clean.assign(period=clean["InvoiceDate"].dt.to_period(freq).dt.start_time,
                         spend=clean["Quantity"] * clean["Price"],
                         customer=clean["Customer ID"].astype(int).astype(str))
    daily = clean.groupby(["customer", "period"])["spend"].sum().reset_index()
    grouped = daily.groupby("customer")
    first, last = grouped["period"].min(), grouped["period"].max()
    repeat = daily.loc[daily["period"] != daily["customer"].map(first)]
    unit, end = pd.Timedelta(1, freq), end.to_period(freq).start_time
    return pd.DataFrame({
        "frequency": grouped.size() - 1, "recency": (last - first) / unit, "T": (end - first) / unit,
        "monetary_value": repeat.groupby("customer")["spend"].mean().reindex(first.index).fillna(0.0),
    })


@pytest.mark.parametrize("period", ["D", "W"])
def test_summary_equals_direct_lifetimes_style_aggregation(period):
    log = _shop_log()
    expected = _direct_summary(log, end=log["InvoiceDate"].max().normalize(), freq=period)
    got = _summary(log, time_unit=period, period=period)
    assert got.index.tolist() == expected.index.tolist() and len(got) > 100
    assert (got["frequency"] > 0).sum() > 50
    pd.testing.assert_frame_equal(got.astype(float), expected.astype(float), check_names=False, rtol=1e-12)


def test_calendar_weeks_start_on_monday(log):
    """lifetimes ``freq="W"``: weeks Monday-Sunday; 2010-01-04 is a Monday, 2010-01-10 the Sunday after."""
    weekly = _summary(log, time_unit="W", period="W")
    # 12346 buys in weeks 0, 1 and 3; 12349 on Sundays 01-10, 01-31, 02-14 (weeks 0, 3, 5); the log ends in week 5.
    _assert_summary(weekly, {"12346": (2, 3, 5, 9.25), "12347": (1, 4, 5, 25.0), "12348": (1, 5, 5, 0.0),
                             "12349": (2, 5, 5, 27.5)})
    with pytest.raises(InputError, match=r"`period` must be 'D', or 'W' with time_unit='W'.*time_unit='D'"):
        _summary(log, period="W")


def test_cli_on_an_online_retail_csv(tmp_path, capsys):
    log = pd.concat([pd.DataFrame(LINES, columns=COLUMNS), _shop_log()], ignore_index=True)
    log["InvoiceDate"] = pd.to_datetime(log["InvoiceDate"]).dt.strftime("%d/%m/%Y %H:%M")  # UK day-first text
    path = tmp_path / "online_retail_II.csv"
    log.to_csv(path, index=False)  # ids written as "12346.0", blanks for anonymous lines
    out, export = tmp_path / "clv.csv", tmp_path / "segments.csv"
    code = main(["customers", "--orders", str(path), "--customer-col", "Customer ID", "--date-col", "InvoiceDate",
                 "--quantity-col", "Quantity", "--price-col", "Price", "--invoice-col", "Invoice",
                 "--cancel-prefix", "C", "--dayfirst", "--out", str(out), "--segments-out", str(export),
                 "--pseudonym-key", "secret-of-16-bytes"])
    assert code == 0
    table = pd.read_csv(out, dtype={"customer_id": str}).set_index("customer_id")
    anonymous = log["Customer ID"].isna()
    stamps = pd.to_datetime(log["InvoiceDate"], format="%d/%m/%Y %H:%M")
    expected = _direct_summary(log.assign(InvoiceDate=stamps), end=stamps.max().normalize())
    assert table.index.is_unique and table.index.tolist() == expected.index.tolist()
    assert len(table) == log.loc[~anonymous, "Customer ID"].nunique()
    for column in ("frequency", "recency", "T"):
        assert (table[column] == expected[column]).all(), column
    assert np.allclose(table["monetary"], expected["monetary_value"], rtol=1e-12)
    # The hand-built customers: only T moves, by the days the seeded shop extends the log.
    extra = (stamps.max().normalize() - pd.Timestamp("2010-02-14")).days
    for customer, (frequency, recency, T, monetary) in EXPECTED_DROP.items():
        row = table.loc[customer]
        assert (row["frequency"], row["recency"], row["T"]) == (frequency, recency, T + extra), customer
    printed = capsys.readouterr().out
    assert f"removed: {int(anonymous.sum()):,} lines without a customer id" in printed
    params = json.loads(Path(f"{out}.params.json").read_text())
    assert params["input"]["no_customer"] == int(anonymous.sum())
    # Rules apply in order: cancelled lines are counted among the lines that have a customer id.
    assert params["input"]["cancelled_lines"] == int((log["Invoice"].str.startswith("C") & ~anonymous).sum())
    segments = pd.read_csv(export, encoding="utf-8-sig", dtype=str)
    assert "customer_id" not in segments.columns and len(segments) == len(table)
    raw_ids = set(table.index) | {f"{c:.1f}" for c in log["Customer ID"].dropna()}
    assert not any(cell in raw_ids for cell in segments.to_numpy().ravel())


def test_cli_names_the_file_columns_when_one_is_wrong(tmp_path, capsys):
    path = tmp_path / "retail.csv"
    pd.DataFrame(LINES, columns=COLUMNS).to_csv(path, index=False)
    argv = ["customers", "--orders", str(path), "--customer-col", "CustomerID", "--date-col", "InvoiceDate",
            "--quantity-col", "Quantity", "--price-col", "Price", "--out", str(tmp_path / "o.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "lacks column(s) ['CustomerID']" in err and "'Customer ID'" in err and "--customer-col" in err
    no_amount = ["customers", "--orders", str(path), "--customer-col", "Customer ID", "--date-col", "InvoiceDate",
                 "--out", str(tmp_path / "o.csv")]
    assert main(no_amount) == 2  # neither quantity x price nor --amount-col: the default 'amount' is absent
    assert "lacks column(s) ['amount']" in capsys.readouterr().err
    assert main(argv[:5] + ["--price-col", "Price", "--out", str(tmp_path / "o.csv")]) == 2
    assert "--quantity-col and --price-col go together" in capsys.readouterr().err
    assert main(no_amount + ["--period", "W"]) == 2
    assert "--period W counts calendar weeks, so it needs --time-unit W" in capsys.readouterr().err
