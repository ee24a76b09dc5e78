"""`channelkit elasticity`: own-price elasticities from a sales panel file or a dataset.

    channelkit elasticity --panel sales.csv --out elasticities.csv
    channelkit elasticity --panel scanner.parquet --by sku --controls promo feature --out e.parquet
    channelkit elasticity --data data/sample --pool --out elasticities.csv
    channelkit elasticity --panel small.csv --engine pyfixest --out e.csv   # the same model fitted by pyfixest

    channelkit elasticity --panel wcer.csv --date-col WEEK --period-start 1989-09-14 --sku-col UPC \
        --channel-col STORE --units-col MOVE --price-col PRICE --price-divisor-col QTY --drop-flag OK \
        --out e.csv   # Dominick's scanner data as distributed

The panel (CSV, Parquet or xlsx; daily or weekly) needs ``date, sku, channel, units, price``, or the
columns named by ``--date-col``, ``--sku-col``, ``--channel-col``, ``--units-col`` and
``--price-col`` (channel: any second key of a series, e.g. a store). Options for scanner exports:

- ``--price-divisor-col COL``: the paid unit price is ``price / COL`` (Dominick's ``PRICE / QTY``,
  where QTY = 2 and PRICE = 5 is "2 for $5"); rows where either is not positive are dropped.
- ``--drop-flag COL``: rows where ``COL == 0`` are dropped (Dominick's ``OK`` flag).
- ``--period-start DATE [--period-freq W]``: the date column holds whole period numbers (Dominick's
  ``WEEK``); period ``p`` starts on ``DATE + (p - 1)`` periods (Dominick's week 1: 1989-09-14).

Dropped rows are periods not observed, so with ``--gaps auto`` a panel that lost rows this way
reads every period without a row as not observed. Optional promotion/feature columns are named
with ``--controls``; a ``category`` column (added from ``products`` with ``--data``) gives each
category its own period effects and enables ``--pool``. The output has one row per group, under
the panel's own names for the SKU and channel columns (``sku, channel`` by default; the channel is
empty with ``--by sku``), then ``elasticity, se, ci_low, ci_high, n_obs, n_series, status, method,
price_sd, units`` and, with ``--pool``, the empirical-Bayes columns ``elasticity_pooled,
ci_low_pooled, ci_high_pooled, ...``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from channelkit.commands.forecast import check_named_columns
from channelkit.errors import ConfigError

# Contract name of each column role and the option naming the panel's own column for it.
COLUMNS = {"date": "--date-col", "sku": "--sku-col", "channel": "--channel-col", "units": "--units-col",
           "price": "--price-col"}
PERIOD_DAYS = {"D": 1, "W": 7}
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
                             "record zero units or --drop-flag/--price-divisor-col dropped rows (default; --data always uses "
                             "zero)")
    parser.add_argument("--time-effects", default="date", choices=("date", "calendar"),
                        help="period fixed effects per stratum (default) or shared calendar controls")
    parser.add_argument("--time-by", nargs="*", default=None, metavar="COL",
                        help="strata of the period effects (default auto: channel x category for fewer than 10 "
                             "channels, SKU x period shared by the stores of a store panel; see docs/elasticity.md)")
    parser.add_argument("--no-trend", action="store_true", help="drop the linear trend per series")
    parser.add_argument("--freq", default="D", choices=("D", "W"), help="with --data: daily or weekly panel")
    parser.add_argument("--level", type=float, default=0.90, help="interval level, 0 < level < 1 (default 0.90)")
    parser.add_argument("--min-obs", type=int, default=20, help="fewest periods per series (default 20)")
    parser.add_argument("--min-price-sd", type=float, default=0.01,
                        help="smallest sd of log price that identifies an elasticity (default 0.01)")
    parser.add_argument("--pool", action="store_true",
                        help="add empirical-Bayes pooled estimates across the SKUs of a category and channels")
    for name, option in COLUMNS.items():
        parser.add_argument(option, default=None, metavar="COL", help=f"--panel's {name} column (default: {name})")
    parser.add_argument("--price-divisor-col", default=None, metavar="COL",
                        help="paid unit price = price / COL, e.g. Dominick's QTY of 'n for $x' packs; rows where "
                             "either is not positive are dropped")
    parser.add_argument("--drop-flag", default=None, metavar="COL",
                        help="drop rows where COL == 0 (e.g. Dominick's OK flag)")
    parser.add_argument("--period-start", default=None, metavar="DATE",
                        help="the date column holds period numbers (e.g. Dominick's WEEK): period 1 starts on DATE "
                             "(Dominick's: 1989-09-14)")
    parser.add_argument("--period-freq", default=None, choices=tuple(PERIOD_DAYS),
                        help="with --period-start: length of a period, D or W (default W)")


def column_names(args: argparse.Namespace) -> dict[str, str]:
    """The panel's column for each contract name (``date, sku, channel, units, price``)."""
    panel_only = {opt: getattr(args, opt[2:].replace("-", "_")) for opt in
                  (*COLUMNS.values(), "--price-divisor-col", "--drop-flag", "--period-start", "--period-freq")}
    given = [opt for opt, value in panel_only.items() if value is not None]
    if args.data and given:
        raise ConfigError(f"{'/'.join(given)}: only with --panel; a --data folder's panel has date, sku, channel, "
                          "units, price")
    if args.period_freq and not args.period_start:
        raise ConfigError("--period-freq needs --period-start (the date of period 1)")
    names = {name: panel_only[option] or name for name, option in COLUMNS.items()}
    if len(set(names.values())) < len(names):
        raise ConfigError(f"{', '.join(COLUMNS.values())} must name different columns, but got {list(names.values())}")
    return names


def read_panel(path: Path, string_columns: tuple[str, ...] = ("sku", "channel")):
    """Read a panel file (CSV in UTF-8/GBK, Parquet or xlsx) with text SKU and channel codes."""
    from channelkit.io import read_input

    return read_input(path, option="--panel", suffixes=(".csv", ".txt", ".parquet", ".pq", ".xlsx"),
                      string_columns=string_columns)


def check_panel_rows(panel, names: dict[str, str], source: str):
    """Refuse what would silently change the estimates: unreadable dates, units that are not numbers or
    missing (NaN is not a zero sale), duplicate (date, sku, channel) rows (the engine would sum them), a
    panel without any sale. ``panel`` has contract names; messages use the file's own (``names``).
    Returns the panel with its dates parsed.
    """
    import pandas as pd

    from channelkit.errors import InputError

    def shown(rows) -> str:
        return str(panel.loc[rows].head(3).astype(str).rename(columns=names).to_dict("records"))

    dates = pd.to_datetime(panel["date"], errors="coerce")
    bad = dates.isna()
    if bad.any():
        raise InputError(f"--panel {source}: column {names['date']!r} has {int(bad.sum())} value(s) that are not "
                         f"dates, e.g. {[str(v) for v in panel.loc[bad, 'date'].unique()[:3]]}")
    units = pd.to_numeric(panel["units"], errors="coerce")
    bad = units.isna()
    if bad.any():
        raise InputError(f"--panel {source}: column {names['units']!r} has {int(bad.sum())} missing or non-numeric "
                         f"value(s) (a missing value is not a zero sale), e.g. rows {shown(bad)}; fill or drop them")
    dup = pd.DataFrame({"date": dates, "sku": panel["sku"].astype(str), "channel": panel["channel"].astype(str)}
                       ).duplicated(keep=False)
    if dup.any():
        raise InputError(f"--panel {source}: {int(dup.sum())} rows share a ({names['date']}, {names['sku']}, "
                         f"{names['channel']}) key, e.g. {shown(dup)}; aggregate it first (one row per series and period)")
    if not (units > 0).any():
        raise InputError(f"--panel {source}: column {names['units']!r} has no positive value: no sales to estimate from")
    return panel.assign(date=dates, units=units)


def period_dates(periods, *, start: str, freq: str = "W", column: str = "date"):
    """Dates of whole period numbers: period ``p`` starts on ``start + (p - 1) * freq`` (``D`` or ``W``)."""
    import pandas as pd

    numbers = pd.to_numeric(periods, errors="coerce")
    bad = periods[numbers.isna() | (numbers % 1 != 0)]
    if len(bad):
        raise ConfigError(f"--period-start: column {column!r} must hold whole period numbers, but has values like "
                          f"{[str(v) for v in bad.unique()[:3]]}")
    try:
        origin = pd.Timestamp(start)
    except ValueError as exc:
        raise ConfigError(f"--period-start must be a date such as 1989-09-14, but got {start!r}") from exc
    return origin + pd.to_timedelta((numbers.astype("int64") - 1) * PERIOD_DAYS[freq], unit="D")


def _drop_flagged(panel, flag: str):
    import pandas as pd

    values = pd.to_numeric(panel[flag], errors="coerce")
    bad = panel.loc[values.isna() & panel[flag].notna(), flag]
    if len(bad):
        raise ConfigError(f"--drop-flag {flag}: the column must hold numbers (0 drops the row), but has values like "
                          f"{[str(v) for v in bad.unique()[:3]]}")
    return panel[values != 0]


def _unit_price(panel, price: str, divisor: str):
    """``price / divisor`` as the price column, on rows where both are positive numbers."""
    import pandas as pd

    p, q = pd.to_numeric(panel[price], errors="coerce"), pd.to_numeric(panel[divisor], errors="coerce")
    keep = (p > 0) & (q > 0)
    return panel[keep].assign(**{price: (p / q)[keep]})


def dataset_panel(folder: Path, freq: str):
    """A dataset's sales panel with each SKU's category."""
    from channelkit.data import daily_sales, load_dataset

    if not folder.is_dir():
        raise ConfigError(f"--data: not a folder: {folder}")
    dataset = load_dataset(folder)
    panel = daily_sales(dataset, freq=freq)
    return panel.merge(dataset.products[["sku", "category"]], on="sku", how="left")


def panel_from_file(args: argparse.Namespace, names: dict[str, str]):
    """The ``--panel`` file under contract names after the scanner options, and the rows each option dropped."""
    panel = read_panel(args.panel, string_columns=(names["sku"], names["channel"]))
    named = {COLUMNS[k]: (v,) for k, v in names.items()}
    named |= {opt: tuple(c for c in cols if c) for opt, cols in (
        ("--price-divisor-col", [args.price_divisor_col]), ("--drop-flag", [args.drop_flag]),
        ("--controls", args.controls), ("--time-by", args.time_by or [])) if any(cols)}
    check_named_columns([str(c) for c in panel.columns], named, args.panel.name)
    dropped = {}
    if args.drop_flag:
        n_rows, panel = len(panel), _drop_flagged(panel, args.drop_flag)
        dropped[f"{args.drop_flag} == 0"] = n_rows - len(panel)
    if args.price_divisor_col:
        n_rows, panel = len(panel), _unit_price(panel, names["price"], args.price_divisor_col)
        dropped[f"{names['price']} or {args.price_divisor_col} not positive"] = n_rows - len(panel)
    if args.period_start:
        panel = panel.assign(**{names["date"]: period_dates(panel[names["date"]], start=args.period_start,
                                                            freq=args.period_freq or "W", column=names["date"])})
    # A contract-named column the user did not pick (e.g. a list `price` beside --price-col paid) gives way.
    shadowed = [c for c in names if c in panel.columns and c not in names.values()]
    used = [c for c in shadowed if c in [*args.controls, *(args.time_by or [])]]
    if used:
        raise ConfigError(f"--controls/--time-by name {used}, which the renamed columns would replace; rename it first")
    panel = panel.drop(columns=shadowed).rename(columns={v: k for k, v in names.items()})
    panel = check_panel_rows(panel, names, args.panel.name)
    return panel, {why: n for why, n in dropped.items() if n}


def _estimate(panel, args: argparse.Namespace, names: dict[str, str], gaps: str):
    by = tuple(args.by.split(","))
    back = {v: k for k, v in names.items()}  # --time-by names the panel's own columns
    if args.method == "dml":
        from channelkit.elasticity.dml import dml_elasticities

        return dml_elasticities(panel, by=by, controls=args.controls, level=args.level, min_obs=args.min_obs)
    from channelkit.elasticity import estimate_elasticities

    return estimate_elasticities(panel, by=by, controls=args.controls, method=args.method,
                                 time_effects=args.time_effects, trend=not args.no_trend,
                                 time_by=None if args.time_by is None else [back.get(c, c) for c in args.time_by],
                                 level=args.level, min_obs=args.min_obs, min_price_sd=args.min_price_sd,
                                 engine=args.engine, vcov=args.vcov, nw_lag=args.nw_lag,
                                 gaps=gaps)


def run(args: argparse.Namespace) -> int:
    from channelkit.io import check_output, write_frame

    check_output(args.out, option="--out", suffixes=OUT_SUFFIXES)
    if not 0 < args.level < 1:
        raise ConfigError(f"--level must satisfy 0 < level < 1 (e.g. 0.9), but got {args.level}")
    names = column_names(args)
    dropped: dict[str, int] = {}
    if args.panel:
        panel, dropped = panel_from_file(args, names)
    else:
        panel = dataset_panel(args.data, args.freq)
    if args.pool and "category" not in panel.columns:  # before the estimation, not after
        raise ConfigError("--pool needs a `category` column in the panel (or use --data)")
    # Rows dropped above are periods not observed, not periods without sales.
    gaps = "zero" if args.data else "missing" if dropped and args.gaps == "auto" else args.gaps
    result = _estimate(panel, args, names, gaps)
    gaps = result.attrs.get("gaps")
    if args.pool:
        from channelkit.elasticity.pooling import partial_pool

        if "category" not in panel.columns:
            raise ConfigError("--pool needs a `category` column in the panel (or use --data)")
        cats = panel[["sku", "category"]].drop_duplicates("sku").astype({"sku": str})
        result = result.merge(cats, on="sku", how="left")
        groups = ("category",) if args.by == "sku" else ("category", "channel")
        result = partial_pool(result, group_cols=groups, level=args.level)
    result = result.rename(columns={"sku": names["sku"], "channel": names["channel"]})
    write_frame(result, args.out, option="--out")
    counts = result["status"].value_counts().to_dict()
    read = {"zero": "; periods without a row read as zero sales",
            "missing": "; periods without a row read as not observed"}.get(gaps, "")
    for why, n in dropped.items():
        print(f"dropped {n} rows of --panel: {why}")
    print(f"wrote {len(result)} rows to {args.out} (status: {counts}{read})")
    return 0
