"""`channelkit elasticity`: own-price elasticities from a sales panel file or a dataset.

    channelkit elasticity --panel sales.csv --out elasticities.csv
    channelkit elasticity --panel scanner.parquet --by sku --controls promo feature --out e.parquet
    channelkit elasticity --data data/sample --pool --out elasticities.csv
    channelkit elasticity --panel small.csv --engine pyfixest --out e.csv   # the same model fitted by pyfixest

The panel (CSV, Parquet or xlsx; daily or weekly) needs ``date, sku, channel, units, price``;
optional promotion/feature columns are named with ``--controls``; a ``category`` column (added
from ``products`` with ``--data``) gives each category its own period effects and enables
``--pool``. The output has one row per group: ``sku, channel`` (empty with ``--by sku``),
``elasticity, se, ci_low, ci_high, n_obs, n_series, status, method, price_sd, units`` and, with
``--pool``, the empirical-Bayes columns ``elasticity_pooled, ci_low_pooled, ci_high_pooled, ...``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from channelkit.errors import ConfigError

HELP = "own-price elasticity per SKU x channel (or per SKU) with intervals, from --panel FILE or --data DIR"
OUT_SUFFIXES = (".csv", ".parquet", ".pq")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--panel", type=Path, metavar="FILE", help="panel CSV/Parquet/xlsx: date, sku, channel, units, price")
    src.add_argument("--data", type=Path, metavar="DIR", help="dataset folder: use its sales panel and categories")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="output CSV or Parquet")
    parser.add_argument("--by", default="sku,channel", choices=("sku", "sku,channel"),
                        help="one elasticity per SKU x channel (default) or per SKU with channel effects")
    parser.add_argument("--controls", nargs="*", default=[], metavar="COL",
                        help="panel columns with a shared coefficient (e.g. promo feature display)")
    parser.add_argument("--method", default="ppml", choices=("ppml", "ols", "dml"),
                        help="ppml: Poisson, keeps zero periods (default); ols: log-log on selling periods; "
                             "dml: double machine learning")
    parser.add_argument("--engine", default="channelkit", choices=("channelkit", "pyfixest"),
                        help="channelkit: fast solver (default); pyfixest: the same model fitted by pyfixest "
                             "(same numbers, small panels only)")
    parser.add_argument("--vcov", default="hetero", choices=("hetero", "nw"),
                        help="standard errors: heteroskedasticity-robust (default) or Newey-West within each "
                             "series, for demand shocks that persist")
    parser.add_argument("--nw-lag", type=int, default=None, metavar="N",
                        help="with --vcov nw: periods of autocorrelation (default floor(T ** 0.25))")
    parser.add_argument("--gaps", default="auto", choices=("auto", "zero", "missing"),
                        help="a period without a row inside a series' span: zero sales (orders exports), missing "
                             "(scanner data that lists zero weeks itself), or auto: missing when >= 5%% of rows "
                             "record zero units (default; --data always uses zero)")
    parser.add_argument("--time-effects", default="date", choices=("date", "calendar"),
                        help="period fixed effects per stratum (default) or shared calendar controls")
    parser.add_argument("--time-by", nargs="*", default=None, metavar="COL",
                        help="strata of the period effects (default: channel, plus category when present)")
    parser.add_argument("--no-trend", action="store_true", help="drop the linear trend per series")
    parser.add_argument("--freq", default="D", choices=("D", "W"), help="with --data: daily or weekly panel")
    parser.add_argument("--level", type=float, default=0.90, help="interval level, 0 < level < 1 (default 0.90)")
    parser.add_argument("--min-obs", type=int, default=20, help="fewest periods per series (default 20)")
    parser.add_argument("--min-price-sd", type=float, default=0.01,
                        help="smallest sd of log price that identifies an elasticity (default 0.01)")
    parser.add_argument("--pool", action="store_true",
                        help="add empirical-Bayes pooled estimates across the SKUs of a category and channels")


def read_panel(path: Path):
    """Read a panel file (CSV in UTF-8/GBK, Parquet or xlsx) with text SKU and channel codes."""
    from channelkit.data import read_file

    if not path.exists():
        raise ConfigError(f"--panel: file not found: {path}")
    if path.suffix.lower() not in (".csv", ".txt", ".parquet", ".pq", ".xlsx"):
        raise ConfigError(f"--panel must be a .csv, .parquet or .xlsx file, but got {path.name}")
    return read_file(path, string_columns=("sku", "channel"))


def dataset_panel(folder: Path, freq: str):
    """A dataset's sales panel with each SKU's category."""
    from channelkit.data import daily_sales, load_dataset

    if not folder.is_dir():
        raise ConfigError(f"--data: not a folder: {folder}")
    dataset = load_dataset(folder)
    panel = daily_sales(dataset, freq=freq)
    return panel.merge(dataset.products[["sku", "category"]], on="sku", how="left")


def _estimate(panel, args: argparse.Namespace):
    by = tuple(args.by.split(","))
    if args.method == "dml":
        from channelkit.elasticity.dml import dml_elasticities

        return dml_elasticities(panel, by=by, controls=args.controls, level=args.level, min_obs=args.min_obs)
    from channelkit.elasticity import estimate_elasticities

    return estimate_elasticities(panel, by=by, controls=args.controls, method=args.method,
                                 time_effects=args.time_effects, time_by=args.time_by, trend=not args.no_trend,
                                 level=args.level, min_obs=args.min_obs, min_price_sd=args.min_price_sd,
                                 engine=args.engine, vcov=args.vcov, nw_lag=args.nw_lag,
                                 gaps="zero" if args.data else args.gaps)


def run(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() not in OUT_SUFFIXES:
        raise ConfigError(f"--out must end in .csv or .parquet, but got {args.out.name}")
    if not 0 < args.level < 1:
        raise ConfigError(f"--level must satisfy 0 < level < 1 (e.g. 0.9), but got {args.level}")
    panel = read_panel(args.panel) if args.panel else dataset_panel(args.data, args.freq)
    result = _estimate(panel, args)
    gaps = result.attrs.get("gaps")
    if args.pool:
        from channelkit.elasticity.pooling import partial_pool

        if "category" not in panel.columns:
            raise ConfigError("--pool needs a `category` column in the panel (or use --data)")
        cats = panel[["sku", "category"]].drop_duplicates("sku").astype({"sku": str})
        result = result.merge(cats, on="sku", how="left")
        groups = ("category",) if args.by == "sku" else ("category", "channel")
        result = partial_pool(result, group_cols=groups, level=args.level)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix.lower() == ".csv":
        result.to_csv(args.out, index=False)
    else:
        result.to_parquet(args.out, index=False)
    counts = result["status"].value_counts().to_dict()
    read = {"zero": "; periods without a row read as zero sales",
            "missing": "; periods without a row read as not observed"}.get(gaps, "")
    print(f"wrote {len(result)} rows to {args.out} (status: {counts}{read})")
    return 0
