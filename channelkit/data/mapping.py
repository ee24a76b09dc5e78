"""The column-mapping file: a user's own export headers -> the contract's column names.

Marketplace back-ends name their columns in their own words (``订单编号``, ``付款时间``,
``实付金额``) and change them over time, so channelkit never hard-codes them. A YAML file, by
default ``columns.yaml`` (or ``columns.yml``) in the dataset folder, says per table which header
is which contract column::

    orders:
      file: 天猫订单导出.csv        # optional: the file(s) of this table (names or globs);
                                    # default: orders.csv / orders.parquet / orders.xlsx
      encoding: gb18030             # optional: force an encoding (default: detected)
      sheet: 订单                   # optional: the sheet of an .xlsx file (default: the first)
      columns:                      # export header: contract column
        订单编号: order_id
        付款时间: order_ts
        实付金额: amount            # line total; unit_price = amount / units
        商家编码: sku
        购买数量: units
        订单状态: status
      values:                       # optional: recode a column's values
        status: {交易成功: paid, 交易关闭: cancelled, 退款成功: refunded}
      constants:                    # optional: a column the export lacks, one value for all rows
        channel: tmall
    products:                       # short form: only the header mapping
      商家编码: sku
      宝贝名称: name

Every target must be a column of that table in ``channelkit/data/contract.py``, or one of the
derived inputs in :data:`DERIVED_INPUTS` (``orders.amount``).
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import yaml

from channelkit.data.contract import TABLES
from channelkit.errors import ConfigError

MAPPING_FILE_NAMES = ("columns.yaml", "columns.yml")

# Inputs a table may carry instead of a contract column; the loader derives the contract column
# from them (see ``loaders.derive_columns``).
DERIVED_INPUTS: dict[str, dict[str, str]] = {
    "orders": {"amount": "Line total actually paid (实付金额); unit_price = amount / units when unit_price is absent."},
}

# Columns the loader fills when the file lacks them: (table, column) -> formula (see loaders.derive_columns).
DERIVED_WHEN_ABSENT: dict[tuple[str, str], str] = {
    ("orders", "unit_price"): "amount / units",
    ("orders", "list_price"): "the SKU's products.list_price",
    ("orders", "discount"): "1 - unit_price / list_price, clipped to [0, 1]",
    ("sales", "discount"): "1 - price / list_price, clipped to [0, 1]",
    ("sales", "promo"): "discount >= 0.01",
}

_FULL_FORM_KEYS = {"file", "files", "encoding", "sheet", "columns", "values", "constants"}


@dataclass(frozen=True)
class TableMapping:
    """How one table's file(s) map onto the contract. ``columns`` maps export header -> contract name."""

    table: str
    columns: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    encoding: str | None = None
    sheet: str | int | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)

    def source_of(self, column: str) -> str:
        """The export header that feeds contract ``column`` (the column's own name when unmapped)."""
        for source, target in self.columns.items():
            if target == column:
                return source
        return column


def find_mapping_file(folder: str | Path) -> Path | None:
    """``columns.yaml`` (or ``columns.yml``) in ``folder``, or ``None`` when there is none."""
    for name in MAPPING_FILE_NAMES:
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    return None


def read_mapping(path: str | Path) -> dict[str, TableMapping]:
    """Parse a column-mapping YAML file into one :class:`TableMapping` per table.

    Raises :class:`~channelkit.errors.ConfigError` naming the file, the table and the entry when
    the file is not valid YAML, names an unknown table, maps to an unknown column, or maps two
    headers onto one column.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"mapping file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"mapping file {path} is not valid UTF-8 YAML: {exc}") from exc
    except ValueError as exc:  # YAML reads 2025-02-30 as a date and fails on it
        raise ConfigError(f"mapping file {path}: {exc} (write such values in quotes)") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"mapping file {path}: expected `table: {{header: column}}` entries, got {type(raw).__name__}")
    return {str(table): _parse_table(path.name, str(table), entry) for table, entry in raw.items()}


def _check_shapes(file: str, table: str, spec: dict) -> None:
    """Raise :class:`ConfigError` for entries of the wrong shape (``values: x``) or an unknown encoding."""
    for key in ("columns", "values", "constants"):
        if spec.get(key) is not None and not isinstance(spec[key], dict):
            raise ConfigError(f"{file}: `{table}.{key}` must be a mapping (`name: value` lines), but got {spec[key]!r}")
    for column, recode in (spec.get("values") or {}).items():
        if recode is not None and not isinstance(recode, dict):
            raise ConfigError(f"{file}: `{table}.values.{column}` must map export values to contract values "
                              f"(e.g. {{交易成功: paid}}), but got {recode!r}")
    files = spec.get("files", spec.get("file"))
    names = [files] if isinstance(files, str) else files if isinstance(files, list) else [None]
    if files is not None and not all(isinstance(f, str) for f in names):
        raise ConfigError(f"{file}: `{table}.file` must be a file name or a list of them, but got {files!r}")
    if spec.get("sheet") is not None and not isinstance(spec["sheet"], (str, int)):
        raise ConfigError(f"{file}: `{table}.sheet` must be a sheet name or number, but got {spec['sheet']!r}")
    encoding = spec.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            raise ConfigError(f"{file}: `{table}.encoding` {encoding!r} is not an encoding Python knows "
                              "(e.g. utf-8, gb18030)") from None


def _parse_table(file: str, table: str, entry: object) -> TableMapping:
    if table not in TABLES:
        raise ConfigError(f"{file}: unknown table `{table}`; the tables are: {', '.join(TABLES)}")
    if not isinstance(entry, dict):
        raise ConfigError(f"{file}: `{table}` must map export headers to contract columns, got {entry!r}")
    full = "columns" in entry and isinstance(entry["columns"], dict) and set(entry) <= _FULL_FORM_KEYS
    spec = entry if full else {"columns": entry}
    _check_shapes(file, table, spec)
    columns = {str(k).strip(): str(v).strip() for k, v in (spec.get("columns") or {}).items()}
    allowed = set(TABLES[table].column_names) | set(DERIVED_INPUTS.get(table, {}))
    for source, target in columns.items():
        if target not in allowed:
            raise ConfigError(
                f"{file}: `{table}.{source}` maps to `{target}`, which is not a column of {table}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
    targets = list(columns.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise ConfigError(f"{file}: `{table}` maps several headers onto {', '.join(doubled)}; keep one")
    values = {str(k): {str(a): str(b) for a, b in (v or {}).items()} for k, v in (spec.get("values") or {}).items()}
    constants = {str(k): v for k, v in (spec.get("constants") or {}).items()}
    for column in list(values) + list(constants):
        if column not in allowed:
            raise ConfigError(f"{file}: `{table}` recodes or sets `{column}`, which is not a column of {table}")
    files = spec.get("files", spec.get("file")) or ()
    files = (files,) if isinstance(files, str) else tuple(str(f) for f in files)
    for name in files:
        if PurePath(name).is_absolute() or ".." in PurePath(name).parts:
            raise ConfigError(f"{file}: `{table}.file` {name!r} must be a file name or pattern inside the dataset "
                              "folder (no absolute path, no ..)")
    return TableMapping(table=table, columns=columns, files=files, encoding=spec.get("encoding"),
                        sheet=spec.get("sheet"), values=values, constants=constants)
