"""`channelkit customers`: lifetime value (BG/NBD + Gamma-Gamma) and RFM segment per customer.

Two inputs:

- ``--orders FILE``: a raw transaction log (CSV, Parquet or .xlsx), one row per purchase or per
  invoice line, with a customer id, a date or timestamp and an amount (``--customer-col``,
  ``--date-col``, ``--amount-col``; defaults ``customer_id, date, amount``) or a quantity and a
  unit price (``--quantity-col``, ``--price-col``: amount = quantity x price). Lines are cleaned
  by :func:`channelkit.customers.log.purchases_from_log`: lines without a customer id are
  dropped, returns (``--cancel-prefix`` invoices of ``--invoice-col``, negative quantities or
  amounts) are dropped or netted (``--returns``), and lines are summed per customer-day; the
  count each rule removed is printed and stored under ``input`` in the params file;
- ``--data DIR``: a contract dataset; purchases are its orders with a paid line (cancelled and
  refunded lines excluded, net revenue), see :func:`channelkit.customers.customer_orders`.

Only purchases up to ``--as-of`` (inclusive; default the last purchase) are used. Writes one
row per customer to ``--out`` (CSV, or Parquet for ``.parquet``) and the fitted parameters to
``<out>.params.json``. ``--segments-out`` also writes the pseudonymised segment export for a
CRM tool, in pseudonym order; its key (at least 16 bytes) comes from ``$CHANNELKIT_PSEUDONYM_KEY``,
a key file (``--pseudonym-key-file`` or ``$CHANNELKIT_PSEUDONYM_KEY_FILE``) or, with a warning
(it shows in ``ps`` and shell history), ``--pseudonym-key``. Every option, the key and the output
folders are checked before any work; every file is written atomically after the work is done.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from channelkit.errors import ConfigError, InputError

HELP = "customer lifetime value (BG/NBD + Gamma-Gamma) and RFM segments from orders or a transaction log"

EPILOG = """\
example, the UCI Online Retail II log saved as CSV (Invoice, StockCode, Description, Quantity,
InvoiceDate, Price, Customer ID, Country; "C" invoices are cancellations):

  channelkit customers --orders online_retail_II.csv --customer-col "Customer ID" \\
      --date-col InvoiceDate --quantity-col Quantity --price-col Price \\
      --invoice-col Invoice --cancel-prefix C --as-of 2011-12-09 --time-unit W \\
      --out clv.csv --segments-out crm/segments.csv

Lines are summed per customer and day; returns are dropped (--returns net subtracts them from
their day instead); lines without a customer id are dropped; the counts are printed and kept
in <out>.params.json. --period W counts calendar weeks (Monday-Sunday, lifetimes freq="W")
instead of days; --dayfirst reads dates like 31/12/2010; --sheet "Year 2010-2011" picks a sheet
of the .xlsx file. CDNOW (customer, date, units, amount): --customer-col customer --date-col
date. The segment export's pseudonym key (16 bytes or more) comes from $CHANNELKIT_PSEUDONYM_KEY or
a key file (--pseudonym-key-file, $CHANNELKIT_PSEUDONYM_KEY_FILE).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the example's line breaks
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--orders", metavar="FILE", help="transaction log, CSV or Parquet (customer, date, amount)")
    source.add_argument("--data", metavar="DIR", help="a contract dataset folder (uses its orders table)")
    parser.add_argument("--out", metavar="FILE", required=True,
                        help="per-customer output (.csv or .parquet); parameters go to <out>.params.json")
    parser.add_argument("--as-of", metavar="DATE", default=None,
                        help="use purchases up to this day, inclusive (default: the last purchase)")
    parser.add_argument("--time-unit", choices=("D", "W"), default="D",
                        help="unit of recency and T: D days (default) or W weeks")
    parser.add_argument("--period", choices=("D", "W"), default="D",
                        help="purchase period: D counts purchase days (default; with --time-unit W, weeks = "
                             "days / 7 as published for CDNOW), W counts calendar weeks (lifetimes freq='W'; "
                             "needs --time-unit W)")
    parser.add_argument("--horizon-months", type=int, default=12, help="CLV horizon in months (default 12)")
    parser.add_argument("--discount-rate", type=float, default=0.01,
                        help="monthly discount rate for CLV (default 0.01, about 12.7%% a year)")
    parser.add_argument("--customer-col", default="customer_id", help="customer id column of --orders")
    parser.add_argument("--date-col", default="date",
                        help="purchase date or timestamp column of --orders (times of day are dropped)")
    parser.add_argument("--amount-col", default=None,
                        help="line amount column of --orders (default 'amount' unless --quantity-col and "
                             "--price-col are given)")
    parser.add_argument("--quantity-col", default=None,
                        help="quantity column: with --price-col, amount = quantity x price; negative = return")
    parser.add_argument("--price-col", default=None, help="unit price column (with --quantity-col)")
    parser.add_argument("--invoice-col", default=None, help="invoice id column (for --cancel-prefix)")
    parser.add_argument("--cancel-prefix", default=None,
                        help="invoice ids starting with this are cancellations (Online Retail: C)")
    parser.add_argument("--returns", choices=("drop", "net"), default="drop",
                        help="return lines (cancelled invoices, negative quantity or amount): drop them "
                             "(default) or net them against the spend of their day")
    parser.add_argument("--dayfirst", action="store_true", help="text dates are day-first (31/12/2010)")
    parser.add_argument("--sheet", default=None, help="sheet of an .xlsx --orders file (default: the first)")
    parser.add_argument("--segments-out", metavar="FILE", default=None,
                        help="also write the segment export (pseudonymous ids only) to this CSV")
    parser.add_argument("--pseudonym-key-file", metavar="FILE", default=None,
                        help="file holding the secret key for the export's pseudonyms, 16+ bytes (default: "
                             "$CHANNELKIT_PSEUDONYM_KEY_FILE, else $CHANNELKIT_PSEUDONYM_KEY)")
    parser.add_argument("--pseudonym-key", default=None,
                        help="the key itself (discouraged: visible in ps and shell history; warns)")


def _read_log(path: str, args: argparse.Namespace) -> tuple[pd.DataFrame, dict[str, int]]:
    """The log's purchases (one per customer-day, see :mod:`channelkit.customers.log`) and counts."""
    from channelkit.customers.log import purchases_from_log
    from channelkit.io import read_input

    if (args.quantity_col is None) != (args.price_col is None) and args.amount_col is None:
        raise ConfigError("--quantity-col and --price-col go together (amount = quantity x price), "
                          "or name the amount with --amount-col")
    if args.cancel_prefix and not args.invoice_col:
        raise ConfigError(f"--cancel-prefix {args.cancel_prefix!r} needs --invoice-col (the invoice id column)")
    priced = args.amount_col is None and args.quantity_col is not None
    amount_col = None if priced else (args.amount_col or "amount")
    text_cols = tuple(c for c in (args.customer_col, args.invoice_col) if c)
    sheet = int(args.sheet) if args.sheet is not None and args.sheet.isdigit() else args.sheet
    frame = read_input(path, option="--orders", string_columns=text_cols, sheet=sheet)
    named = {"--customer-col": args.customer_col, "--date-col": args.date_col, "--amount-col": amount_col,
             "--quantity-col": args.quantity_col, "--price-col": args.price_col if priced else None,
             "--invoice-col": args.invoice_col}
    missing = [c for c in named.values() if c and c not in frame.columns]
    if missing:
        options = ", ".join(k for k, v in named.items() if v in missing)
        raise InputError(f"--orders {path} lacks column(s) {missing}; it has {list(frame.columns)[:30]}. "
                         f"Name them with {options}")
    purchases, counts = purchases_from_log(
        frame, customer_col=args.customer_col, date_col=args.date_col, amount_col=amount_col,
        quantity_col=args.quantity_col, price_col=args.price_col if priced else None,
        invoice_col=args.invoice_col, cancel_prefix=args.cancel_prefix, returns=args.returns,
        dayfirst=args.dayfirst)
    purchases = purchases[["customer_id", "order_ts", "revenue"]]
    return purchases.assign(customer_id=_coded_ids(purchases["customer_id"])), counts


def _print_counts(counts: dict[str, int]) -> None:
    """One line per cleaning rule, so the analyst sees what the log lost and why."""
    labels = {"no_customer": "lines without a customer id", "cancelled_lines": "cancelled-invoice lines",
              "negative_lines": "lines with negative quantity or amount", "returned_lines":
              "return lines netted against their day", "returned_days": "customer-days undone by returns (net <= 0)"}
    print(f"log: {counts['rows']:,} lines -> {counts['purchases']:,} purchase days of "
          f"{counts['customers']:,} customers")
    for key, label in labels.items():
        if key in counts:
            verb = "netted" if key == "returned_lines" else "removed"
            print(f"  {verb}: {counts[key]:,} {label}")


def _coded_ids(ids: pd.Series) -> pd.Categorical:
    """The ids as a categorical over their sorted text, hashed once for both engines that follow."""
    from channelkit.customers._validate import sorted_codes

    codes, names = sorted_codes(ids)
    return pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype=object))


def _read_dataset(path: str) -> pd.DataFrame:
    from channelkit.customers import customer_orders
    from channelkit.data import load_dataset

    dataset = load_dataset(path)
    return customer_orders(dataset.require("orders"))


def _segment_key(args: argparse.Namespace) -> str | None:
    """The export key, checked before any work (None without --segments-out)."""
    import sys

    from channelkit.customers.export import resolve_key

    if not args.segments_out:
        if args.pseudonym_key or args.pseudonym_key_file:
            raise ConfigError("--pseudonym-key/--pseudonym-key-file only matter with --segments-out")
        return None
    if args.pseudonym_key:
        print("channelkit customers: warning: --pseudonym-key shows the key in `ps` and shell history; "
              "set $CHANNELKIT_PSEUDONYM_KEY or use --pseudonym-key-file", file=sys.stderr)
    return resolve_key(args.pseudonym_key, key_file=args.pseudonym_key_file)


def run(args: argparse.Namespace) -> int:
    from channelkit.customers import customer_lifetime_values, export_segments, rfm_table
    from channelkit.io import check_output, write_frame, write_text

    out = check_output(args.out, option="--out", suffixes=(".csv", ".parquet", ".pq"))
    check_output(f"{out}.params.json", option="--out")
    if args.period == "W" and args.time_unit != "W":
        raise ConfigError("--period W counts calendar weeks, so it needs --time-unit W")
    if args.as_of is not None:
        try:
            pd.Timestamp(args.as_of)
        except ValueError:
            raise ConfigError(f"--as-of must be a date such as 2011-12-09, but got {args.as_of!r}") from None
    segments_out = check_output(args.segments_out, option="--segments-out")
    key = _segment_key(args)
    counts = None
    if args.orders:
        transactions, counts = _read_log(args.orders, args)
        _print_counts(counts)
    else:
        transactions = _read_dataset(args.data)
    values, params = customer_lifetime_values(
        transactions, as_of=args.as_of, time_unit=args.time_unit, period=args.period,
        horizon_months=args.horizon_months, discount_rate=args.discount_rate,
    )
    rfm = rfm_table(transactions, as_of=args.as_of)
    scores = rfm[["customer_id", "recency_days", "r", "f", "m", "rfm", "segment"]]
    if values["customer_id"].equals(scores["customer_id"]):  # same customers in the same order: no join
        table = pd.concat([values, scores.drop(columns="customer_id")], axis=1)
    else:
        table = values.merge(scores, on="customer_id", how="left")
    table["segment"] = table["segment"].astype(str)
    params_path = Path(f"{out}.params.json")
    params["period"] = args.period
    if counts is not None:
        params["input"] = {"file": str(args.orders), "returns": args.returns, **counts}
    write_frame(table, out)
    write_text(json.dumps(params, indent=2), params_path)
    bg, gg = params["bgnbd"], params["gamma_gamma"]
    print(f"{len(table):,} customers ({params['diagnostics']['repeat_customers']:,} with repeat purchases) -> {out}")
    print(f"BG/NBD r={bg['r']:.4g} alpha={bg['alpha']:.4g} a={bg['a']:.4g} b={bg['b']:.4g} "
          f"(time unit {bg['time_unit']}); Gamma-Gamma p={gg['p']:.4g} q={gg['q']:.4g} v={gg['v']:.4g} -> {params_path}")
    if segments_out is not None:
        path = export_segments(table, segments_out, key=key)
        print(f"segment export (pseudonymous ids) -> {path}")
    return 0
