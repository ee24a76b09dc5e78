"""Read a dataset folder (CSV, Parquet, ``.xlsx``) into contract-named frames.

One file per table, named after it (``orders.csv``, ``orders.parquet``, ``orders.xlsx``), or the
files a column-mapping file names (see :mod:`channelkit.data.mapping`). CSV files may be UTF-8
with or without a byte-order mark, or GBK/GB18030 as Chinese marketplace back-ends export them;
the encoding is detected (UTF-8 first, then GB18030, a superset of GBK) and a file that is
neither is reported with the byte offset and line of the first bad byte. CSVs are parsed with
pyarrow's multi-threaded reader; pandas' reader is the fallback when pyarrow cannot parse a file.

This module only reads and renames. Types, ranges and keys are checked by
:mod:`channelkit.data.validation`; :func:`load_dataset` runs both and returns a
:class:`~channelkit.data.dataset.Dataset`.
"""
from __future__ import annotations

import codecs
import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from channelkit.data.contract import TABLES, Column, Table
from channelkit.data.dtypes import COMPACT_TABLES, LABEL_COLUMNS, arrow_to_frame, read_parquet_compact, strip_labels
from channelkit.data.mapping import DERIVED_INPUTS, TableMapping, find_mapping_file, read_mapping
from channelkit.errors import ConfigError, InputError

if TYPE_CHECKING:
    from channelkit.data.dataset import Dataset

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
TABLE_SUFFIXES = CSV_SUFFIXES + (".parquet", ".pq", ".xlsx")
_CHUNK = 1 << 22  # 4 MiB: encoding detection streams the file instead of holding it twice


class FileReadError(InputError):
    """A file could not be read at all (encoding, broken CSV); validation turns it into a problem.

    ``reason`` says why (it reads after the file name); ``file`` is set once the file is known.
    """

    def __init__(self, reason: str, file: str | None = None) -> None:
        reason = reason.strip()
        super().__init__(f"{file} {reason}" if file else reason)
        self.reason = reason
        self.file = file


@dataclass(frozen=True)
class RawTable:
    """One table as read: contract-named columns (still untyped), and where its rows came from.

    ``sources`` lists ``(file name, first row index, kind)`` per file, in row order, so a problem
    can point at the line of the file it came from. ``dropped`` lists the export's columns that
    are not in the contract (dropped: they may hold personal data such as buyer names).
    """

    table: str
    frame: pd.DataFrame
    sources: tuple[tuple[str, int, str], ...]
    dropped: tuple[str, ...] = ()
    present: frozenset[str] = frozenset()  # contract columns present in the files (before defaults)
    trimmed: frozenset[str] = frozenset()  # text columns already stripped, blanks missing (CSV via pyarrow)
    headers: tuple[str, ...] = ()  # the files' own headers, as written (before the mapping)


def detect_encoding(path: str | Path) -> str:
    """``utf-8-sig`` (UTF-8, BOM or not) or ``gb18030`` (GBK and GB2312 are subsets).

    Streams the file through incremental decoders. Raises :class:`FileReadError` with the byte
    offset, line and bytes of the first position that is valid in neither encoding.
    """
    path = Path(path)
    failures = []
    for encoding in ("utf-8-sig", "gb18030"):
        position = _first_bad_byte(path, encoding)
        if position is None:
            return encoding
        failures.append(position)
    offset = max(failures)  # the encoding that got further is the likelier intent
    with path.open("rb") as handle:
        head = handle.read(offset + 8)
    line = head[:offset].count(b"\n") + 1
    raise FileReadError(
        f"is neither UTF-8 nor GBK/GB18030 text: undecodable bytes {head[offset:offset + 8]!r} at byte "
        f"{offset} (line {line}). Save the file as UTF-8 (Excel: 'CSV UTF-8'), or set `encoding:` for "
        f"this table in columns.yaml"
    )


def _first_bad_byte(path: Path, encoding: str) -> int | None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk, final=False)
            except UnicodeDecodeError as exc:
                return done + exc.start
            done += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return done
    return None


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        header = handle.readline()
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _trim_text(table: pa.Table) -> pa.Table:
    """Strip spaces around every text cell and make blank cells missing (in Arrow: C speed)."""
    for i, field_ in enumerate(table.schema):
        if pa.types.is_string(field_.type) or pa.types.is_large_string(field_.type):
            text = pc.utf8_trim_whitespace(table.column(i))
            text = pc.if_else(pc.equal(text, ""), pa.scalar(None, field_.type), text)
            table = table.set_column(i, field_.name, text)
    return table


def _labels_to_text(series: pd.Series) -> pd.Series:
    """A dictionary-encoded (categorical) text column as stripped object text, blanks missing.

    Stripping the few distinct labels and taking them by code is far cheaper than converting
    millions of Arrow strings to Python objects one by one.
    """
    labels = series.cat.categories.astype(str).str.strip()
    lookup = np.append(np.where(labels == "", np.nan, labels.to_numpy(dtype=object)), np.nan).astype(object)
    return pd.Series(lookup[series.cat.codes.to_numpy()], index=series.index, dtype=object)


def read_csv(path: str | Path, *, encoding: str | None = None, string_columns: tuple[str, ...] = (),
             label_columns: tuple[str, ...] = (), compact: bool = False) -> pd.DataFrame:
    """Read a CSV into strings and numbers as pyarrow infers them; ``string_columns`` stay text.

    Text cells come back stripped, with blank cells missing (see :func:`_trim_text`).
    ``label_columns`` (text with few distinct values: SKUs, channels, statuses) are read
    dictionary-encoded for speed and returned as plain text too; with ``compact=True`` they stay
    categories and the other text is pyarrow-backed (see :mod:`channelkit.data.dtypes`).
    Keeping id columns as text keeps leading zeros (``SKU 000123``). Falls back to pandas' reader
    when pyarrow cannot parse the file; raises :class:`FileReadError` when neither can.
    """
    path = Path(path)
    encoding = encoding or detect_encoding(path)
    delimiter = _sniff_delimiter(path, encoding)
    arrow_encoding = "utf8" if encoding.replace("-", "").lower() in ("utf8", "utf8sig") else encoding
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=arrow_encoding),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={**{c: pa.string() for c in string_columns},
                              **{c: pa.dictionary(pa.int32(), pa.string()) for c in label_columns}},
                strings_can_be_null=True,
            ),
        )
        if compact:
            frame = arrow_to_frame(_trim_text(table))
            for column in frame.columns:
                if isinstance(frame[column].dtype, pd.CategoricalDtype):
                    frame[column] = strip_labels(frame[column])
        else:
            frame = _trim_text(table).to_pandas()
        for column in frame.columns if not compact else ():
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = _labels_to_text(frame[column])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        try:
            frame = pd.read_csv(path, encoding=encoding, sep=delimiter,
                                dtype={c: str for c in string_columns + label_columns},
                                skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise FileReadError(f"is not a readable CSV file: {exc}") from exc
    if len(frame.columns):
        # A BOM that survived (e.g. a UTF-8 BOM inside a GBK file) must not stick to the first header.
        frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    return frame


def read_file(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None,
              string_columns: tuple[str, ...] = (), label_columns: tuple[str, ...] = (),
              compact: bool = False) -> pd.DataFrame:
    """Read one CSV, Parquet or ``.xlsx`` file as it is (headers stripped, nothing else changed).

    ``compact=True`` (CSV and Parquet) returns ``label_columns`` as categories and other text as
    pyarrow-backed strings instead of Python objects (see :mod:`channelkit.data.dtypes`).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path, encoding=encoding, string_columns=string_columns, label_columns=label_columns,
                        compact=compact)
    try:
        if suffix in (".parquet", ".pq") and compact:
            frame = read_parquet_compact(path, label_columns)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, engine="openpyxl",
                                  dtype={c: str for c in string_columns + label_columns})
        else:
            raise FileReadError(f"has an unsupported type {suffix!r}; use .csv, .parquet or .xlsx")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, pa.ArrowException) as exc:
        raise FileReadError(f"could not be read: {exc}") from exc
    except Exception as exc:  # openpyxl's own errors (InvalidFileException, ...) derive from Exception only
        if type(exc).__module__.split(".")[0] != "openpyxl":
            raise
        raise FileReadError(f"is not a readable .xlsx workbook: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def apply_mapping(frame: pd.DataFrame, table: Table, mapping: TableMapping | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Rename export headers to contract names, recode values, add constants, drop other columns.

    Renames ``frame``'s columns in place (pass a frame you own). Returns the frame and the names
    of the dropped (unmapped, non-contract) columns.
    """
    mapping = mapping or TableMapping(table=table.name)
    frame.columns = [mapping.columns.get(c, c) for c in frame.columns]  # the reader's fresh frame: no copy
    known = set(table.column_names) | set(DERIVED_INPUTS.get(table.name, {}))
    dropped = tuple(c for c in frame.columns if c not in known)
    if dropped:
        frame = frame.drop(columns=list(dropped))
    for column, recode in mapping.values.items():
        if column in frame.columns:
            frame[column] = _recode(frame[column], recode)
    for column, value in mapping.constants.items():
        frame[column] = value
    return frame, dropped


def _recode(values: pd.Series, recode: dict[str, str]) -> pd.Series:
    """Stripped text with ``recode``'s values replaced; a category is recoded over its labels only."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.where(values.isna(), values.astype(str).str.strip()).replace(recode)
    labels = pd.Series(values.cat.categories.astype(str).str.strip(), dtype=object).replace(recode)
    kept = pd.Index(labels).unique()
    lookup = np.append(kept.get_indexer(labels), -1)  # a missing cell (code -1) stays missing
    codes = lookup[values.cat.codes.to_numpy()]
    return pd.Series(pd.Categorical.from_codes(codes, categories=kept), index=values.index, name=values.name)


def _filler(column: Column, index: pd.Index) -> pd.Series:
    """An absent optional column: its contract default, or missing values of the right dtype."""
    from channelkit.data.schemas import pandas_dtype

    if column.default is not None:
        return pd.Series(column.default, index=index, dtype=pandas_dtype(column) or object)
    nullable = {"int": "Int64", "bool": "boolean"}.get(column.dtype, pandas_dtype(column) or object)
    return pd.Series(None, index=index, dtype=nullable)


def derive_columns(table: str, frame: pd.DataFrame, *, products: pd.DataFrame | None = None) -> pd.DataFrame:
    """Complete a typed table with the optional columns its file lacks; columns in contract order.

    Rules, applied only when the column is absent from the file:
    - ``orders.unit_price`` = ``amount / units`` (the line total, 实付金额, mapped to ``amount``);
    - ``orders.list_price`` = the SKU's ``products.list_price``;
    - ``orders.discount`` = ``1 - unit_price / list_price``, clipped to [0, 1] (a paid price above the
      shelf price is no discount); ``sales.discount`` = ``1 - price / list_price`` likewise;
    - ``sales.promo`` = ``discount >= 0.01`` (the rule of :func:`~channelkit.data.panel.daily_sales`);
    - any other optional column: its contract default (``status`` = ``paid``, ``commission_rate`` =
      0, ``location`` = ``all``, ``promo`` = False, ...), else missing values.
    A required column that is still absent stays absent (validation reports it).
    """
    spec = TABLES[table]
    price = {"orders": "unit_price", "sales": "price"}.get(table)
    if table == "orders":
        if "unit_price" not in frame and {"amount", "units"} <= set(frame.columns):
            units = frame["units"].astype("float64")
            frame["unit_price"] = frame["amount"].astype("float64") / units.where(units > 0)
        if "list_price" not in frame and "sku" in frame and products is not None and not products.empty:
            shelf = products.drop_duplicates("sku").set_index("sku")["list_price"]
            frame["list_price"] = frame["sku"].map(shelf).astype("float64")
    if price and "discount" not in frame and {price, "list_price"} <= set(frame.columns):
        ratio = frame[price].astype("float64") / frame["list_price"].astype("float64").where(frame["list_price"] > 0)
        frame["discount"] = (1.0 - ratio).clip(0.0, 1.0)
    if table == "sales" and "promo" not in frame and "discount" in frame:
        frame["promo"] = (frame["discount"].fillna(0.0) >= 0.01).to_numpy(dtype=bool)  # as daily_sales decides
    inputs = [c for c in DERIVED_INPUTS.get(table, {}) if c in frame.columns]
    if inputs:  # drop() copies every column, so only when there is something to drop
        frame = frame.drop(columns=inputs)
    for column in spec.columns:
        if column.name not in frame.columns and not column.required:
            frame[column.name] = _filler(column, frame.index)
    order = [c for c in spec.column_names if c in frame.columns]
    if list(frame.columns) == order:
        return frame
    return pd.DataFrame({c: frame[c] for c in order}, copy=False)  # reorder without copying the data


def table_files(folder: Path, table: str, mapping: TableMapping | None) -> list[Path]:
    """The files of ``table`` in ``folder``: those the mapping names, else ``<table>.<csv|parquet|xlsx>``."""
    if mapping is not None and mapping.files:
        found: list[Path] = []
        for pattern in mapping.files:
            matches = sorted(folder.glob(pattern))
            if not matches:
                raise ConfigError(f"columns.yaml names `{pattern}` for {table}, but {folder} has no such file")
            found.extend(matches)
        return found
    return [p for p in (folder / f"{table}{s}" for s in TABLE_SUFFIXES) if p.is_file()]


def read_table(files: list[Path] | str | Path, table: str, *, mapping: TableMapping | None = None) -> RawTable:
    """Read the file(s) of one table and map them onto the contract's names (no type checks yet).

    Several files (e.g. one export per month) are stacked in the order given.
    """
    spec = TABLES[table]
    files = [Path(files)] if isinstance(files, (str, Path)) else [Path(f) for f in files]
    mapping = mapping or TableMapping(table=table)
    text = [c.name for c in spec.columns if c.dtype == "string"]
    labels = tuple(mapping.source_of(c) for c in text if c in LABEL_COLUMNS)
    strings = tuple(mapping.source_of(c) for c in text if c not in LABEL_COLUMNS)
    frames, sources, dropped, start = [], [], [], 0
    trimmed: set[str] | None = None
    headers: list[str] = []
    for path in files:
        try:
            raw = read_file(path, encoding=mapping.encoding, sheet=mapping.sheet, string_columns=strings,
                            label_columns=labels, compact=table in COMPACT_TABLES)
        except FileReadError as exc:
            raise FileReadError(exc.reason, file=path.name) from exc
        headers.extend(str(c) for c in raw.columns if str(c) not in headers)
        frame, extra = apply_mapping(raw, spec, mapping)
        clean = {c for c in frame.columns if path.suffix.lower() in CSV_SUFFIXES and frame[c].dtype == object}
        clean -= set(mapping.constants)
        trimmed = clean if trimmed is None else trimmed & clean
        kind = "row" if path.suffix.lower() in (".parquet", ".pq") else "line"
        frames.append(frame)
        sources.append((path.name, start, kind))
        dropped.extend(c for c in extra if c not in dropped)
        start += len(frame)
    if len(frames) > 1:
        frame = pd.concat(frames, ignore_index=True)
    else:
        frame = frames[0]
        frame.index = pd.RangeIndex(len(frame))  # the reader's own frame: renumber it without a copy
    return RawTable(table=table, frame=frame, sources=tuple(sources), dropped=tuple(dropped),
                    present=frozenset(frame.columns), trimmed=frozenset(trimmed or ()), headers=tuple(headers))


def resolve_mapping(folder: Path, mapping: str | Path | dict[str, TableMapping] | None) -> dict[str, TableMapping]:
    """The mapping to use: the one given, else ``columns.yaml`` in the folder, else none."""
    if isinstance(mapping, dict):
        return mapping
    if mapping is not None:
        return read_mapping(mapping)
    found = find_mapping_file(folder)
    return read_mapping(found) if found else {}


def load_dataset(path: str | Path, *, mapping: str | Path | dict[str, TableMapping] | None = None,
                 compact_labels: bool = False, limits: dict[str, float] | None = None) -> Dataset:
    """Read, check and type every table of a dataset folder; return a :class:`Dataset`.

    ``mapping`` is a column-mapping YAML file (default: ``columns.yaml`` in the folder when it
    exists). Every problem of every table is collected first; if there is any, one
    :class:`~channelkit.errors.DataValidationError` lists them all (file, column, rule, number of
    rows, up to five example rows) and nothing is returned. Timestamps come back naive in local
    shop time; every contract column is present (its default, or empty, when the file lacks an
    optional one); columns outside the contract are dropped (see ``Dataset.dropped_columns``).
    ``orders`` and ``touchpoints`` keep their ids as pyarrow-backed text; their labels (``sku``,
    ``channel``, ``status``) are ``object`` text, or ``category`` with ``compact_labels=True``
    (least memory; group with ``observed=True``). See :mod:`channelkit.data.dtypes`. ``limits``
    sets the largest absolute value of numeric columns (see
    :func:`~channelkit.data.validation.check_numbers`; default ``1e12``; ``inf`` is always refused).
    """
    from channelkit.data.validation import check_folder, raise_for_problems

    dataset, problems = check_folder(path, mapping=mapping, compact_labels=compact_labels, limits=limits)
    raise_for_problems(problems, source=Path(path))
    return dataset
