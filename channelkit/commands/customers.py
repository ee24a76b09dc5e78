"""`channelkit customers`: lifetime value (BG/NBD + Gamma-Gamma) and RFM segment per customer.

Two inputs:

- ``--orders FILE``: a plain transaction log (CSV or Parquet) with at least a customer id, a
  date and an amount per purchase (column names set by ``--customer-col``, ``--date-col``,
  ``--amount-col``; defaults ``customer_id, date, amount``);
- ``--data DIR``: a contract dataset; purchases are its orders with a paid line (cancelled and
  refunded lines excluded, net revenue), see :func:`channelkit.customers.customer_orders`.

Only purchases up to ``--as-of`` (inclusive; default the last purchase) are used. Writes one
row per customer to ``--out`` (CSV, or Parquet for ``.parquet``) and the fitted parameters to
``<out>.params.json``. ``--segments-out`` also writes the pseudonymised segment export for a
CRM tool (needs ``--pseudonym-key`` or ``$CHANNELKIT_PSEUDONYM_KEY``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from channelkit.errors import ConfigError, InputError

HELP = "customer lifetime value (BG/NBD + Gamma-Gamma) and RFM segments from orders or a transaction log"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--orders", metavar="FILE", help="transaction log, CSV or Parquet (customer, date, amount)")
    source.add_argument("--data", metavar="DIR", help="a contract dataset folder (uses its orders table)")
    parser.add_argument("--out", metavar="FILE", required=True,
                        help="per-customer output (.csv or .parquet); parameters go to <out>.params.json")
    parser.add_argument("--as-of", metavar="DATE", default=None,
                        help="use purchases up to this day, inclusive (default: the last purchase)")
    parser.add_argument("--time-unit", choices=("D", "W"), default="D",
                        help="unit of recency and T: D days (default) or W weeks")
    parser.add_argument("--horizon-months", type=int, default=12, help="CLV horizon in months (default 12)")
    parser.add_argument("--discount-rate", type=float, default=0.01,
                        help="monthly discount rate for CLV (default 0.01, about 12.7%% a year)")
    parser.add_argument("--customer-col", default="customer_id", help="customer id column of --orders")
    parser.add_argument("--date-col", default="date", help="purchase date column of --orders")
    parser.add_argument("--amount-col", default="amount", help="purchase amount column of --orders")
    parser.add_argument("--segments-out", metavar="FILE", default=None,
                        help="also write the segment export (pseudonymous ids only) to this CSV")
    parser.add_argument("--pseudonym-key", default=None,
                        help="secret key for the export's pseudonyms (default: $CHANNELKIT_PSEUDONYM_KEY)")


def _read_log(path: str, args: argparse.Namespace) -> pd.DataFrame:
    from channelkit.data.loaders import FileReadError, read_file

    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"--orders: no such file: {path}")
    try:
        frame = read_file(file, string_columns=(args.customer_col,))
    except FileReadError as exc:
        raise InputError(f"--orders {path} {exc}") from exc
    missing = [c for c in (args.customer_col, args.date_col, args.amount_col) if c not in frame.columns]
    if missing:
        raise InputError(
            f"--orders {path} lacks column(s) {missing}; it has {list(frame.columns)[:10]}. "
            "Name them with --customer-col, --date-col, --amount-col"
        )
    frame = frame.rename(columns={args.customer_col: "customer_id", args.date_col: "order_ts",
                                  args.amount_col: "revenue"})[["customer_id", "order_ts", "revenue"]]
    return frame.assign(customer_id=_coded_ids(frame["customer_id"]))


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


def _write(frame: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    elif out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False)
    else:
        raise ConfigError(f"--out must end in .csv or .parquet, but got {out.name!r}")


def run(args: argparse.Namespace) -> int:
    from channelkit.customers import customer_lifetime_values, export_segments, rfm_table

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise ConfigError(f"--out must end in .csv or .parquet, but got {out.name!r}")
    transactions = _read_log(args.orders, args) if args.orders else _read_dataset(args.data)
    values, params = customer_lifetime_values(
        transactions, as_of=args.as_of, time_unit=args.time_unit,
        horizon_months=args.horizon_months, discount_rate=args.discount_rate,
    )
    rfm = rfm_table(transactions, as_of=args.as_of)
    scores = rfm[["customer_id", "recency_days", "r", "f", "m", "rfm", "segment"]]
    if values["customer_id"].equals(scores["customer_id"]):  # same customers in the same order: no join
        table = pd.concat([values, scores.drop(columns="customer_id")], axis=1)
    else:
        table = values.merge(scores, on="customer_id", how="left")
    table["segment"] = table["segment"].astype(str)
    _write(table, out)
    params_path = Path(f"{out}.params.json")
    params_path.write_text(json.dumps(params, indent=2), encoding="utf-8")
    bg, gg = params["bgnbd"], params["gamma_gamma"]
    print(f"{len(table):,} customers ({params['diagnostics']['repeat_customers']:,} with repeat purchases) -> {out}")
    print(f"BG/NBD r={bg['r']:.4g} alpha={bg['alpha']:.4g} a={bg['a']:.4g} b={bg['b']:.4g} "
          f"(time unit {bg['time_unit']}); Gamma-Gamma p={gg['p']:.4g} q={gg['q']:.4g} v={gg['v']:.4g} -> {params_path}")
    if args.segments_out:
        path = export_segments(table, args.segments_out, key=args.pseudonym_key)
        print(f"segment export (pseudonymous ids) -> {path}")
    return 0
