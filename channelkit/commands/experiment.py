"""`channelkit experiment`: the verdict of a two-variant test from a per-user table.

``--input FILE`` (CSV or Parquet) has one row per user: a variant column, and any of a 0/1
conversion column, a value column (revenue per user, zeros included), a pre-period covariate (for
CUPED) and an enrolment date (to replay daily looks and warn when the test was stopped early by
peeking). ``--out FILE`` gets one row per metric and method (.csv/.parquet) or, for .json, the
tests plus the sample-ratio check, the peeking summary and the warnings. Warnings also go to stderr.
"""
from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from channelkit.errors import InputError

HELP = "two-variant test: conversion z test, Welch and bootstrap revenue, CUPED, SRM and peeking checks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", metavar="FILE", required=True, help="per-user table, CSV or Parquet")
    parser.add_argument("--out", metavar="FILE", required=True, help="results: .csv, .parquet or .json")
    parser.add_argument("--variant-col", default="variant", help="variant column (default variant)")
    parser.add_argument("--converted-col", default="converted",
                        help="0/1 conversion column; 'none' to skip (default converted)")
    parser.add_argument("--value-col", default="revenue", help="value per user column; 'none' to skip (default revenue)")
    parser.add_argument("--covariate-col", default=None, help="pre-period covariate for CUPED (default: none; "
                        "pre_revenue is used when present)")
    parser.add_argument("--date-col", default=None, help="enrolment date column for the peeking check "
                        "(default: date when present)")
    parser.add_argument("--control", default=None, help="name of the control variant (default: 'control' or first)")
    parser.add_argument("--treatment", default=None, help="name of the treatment variant (default: the other one)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level, two-sided (default 0.05)")
    parser.add_argument("--planned-n", type=int, default=None, help="planned total users, for the peeking check")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


def _read(path: str) -> pd.DataFrame:
    from channelkit.io import read_input

    return read_input(path, option="--input", suffixes=(".csv", ".parquet", ".pq"))


def _optional(value: str | None, default: str, frame: pd.DataFrame) -> str | None:
    if value is None:
        return default if default in frame.columns else None
    return None if value.lower() == "none" else value


def run(args: argparse.Namespace) -> int:
    from channelkit.experiments import analyze_experiment
    from channelkit.promotions.frames import require_columns

    from channelkit.io import check_output, write_frame, write_text

    out = check_output(args.out, option="--out", suffixes=(".csv", ".parquet", ".pq", ".json"))
    frame = _read(args.input)
    columns = {"converted_col": _optional(args.converted_col, "converted", frame),
               "value_col": _optional(args.value_col, "revenue", frame),
               "covariate_col": _optional(args.covariate_col, "pre_revenue", frame),
               "date_col": _optional(args.date_col, "date", frame)}
    try:
        require_columns(frame, [args.variant_col] + [c for c in columns.values() if c], name="--input")
    except InputError as exc:
        raise InputError(f"{exc}. Name the columns with --variant-col, --converted-col, --value-col, "
                         "--covariate-col, --date-col") from exc
    result = analyze_experiment(frame, variant_col=args.variant_col, control=args.control, treatment=args.treatment,
                                alpha=args.alpha, planned_n=args.planned_n, n_resamples=args.resamples,
                                seed=args.seed, **columns)
    if out.suffix.lower() == ".json":
        payload = {"tests": json.loads(result.tests.to_json(orient="records")), "srm": result.srm,
                   "peeking": result.peeking, "warnings": result.warnings}
        write_text(json.dumps(payload, indent=2, default=str), out)
    else:
        write_frame(result.tests, out)
    for row in result.tests.itertuples():
        print(f"{row.metric:>12} {row.method:<38} {row.control}={row.mean_control:.4g} "
              f"{row.treatment}={row.mean_treatment:.4g} diff={row.diff:+.4g} "
              f"[{row.ci_low:+.4g}, {row.ci_high:+.4g}] {'significant' if row.significant else 'not significant'}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"-> {out}")
    return 0
