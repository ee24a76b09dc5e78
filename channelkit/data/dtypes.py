"""Compact in-memory types for the tables that grow with the business (``orders``, ``touchpoints``).

A large shop's order log has tens of millions of lines. Held as Python string objects, its text
columns alone take gigabytes, so the loader types these two tables the way the field keeps large
frames in pandas (and as pandas 3 will by default):

- labels, text with few distinct values (``sku``, ``channel``, ``status``): pandas ``category``
  with the distinct values sorted as categories (so sorting and grouping follow the text's order)
  and no unused categories; one small integer code per row. Validation and ``daily_sales`` always
  work on these codes; :func:`~channelkit.data.load_dataset` hands them out as categories only
  with ``compact_labels=True``, else as ``object`` text sharing one string per label (8 bytes a
  row), because ``Series.map`` on a category returns a category, which engines written for
  object text do not expect;
- identifiers with many distinct values (``order_id``, ``customer_id``): pyarrow-backed strings,
  :data:`TEXT` (``pd.StringDtype("pyarrow", na_value=nan)``, pandas 3's ``str``): one contiguous
  buffer, missing values are ``NaN`` and comparisons return NumPy booleans, like object text.

The other tables (channels, products, marketing, inventory, events, a supplied sales panel) are
small dimension tables and keep plain ``object`` text. Code that groups a compact table by a
label column passes ``observed=True`` (else pandas adds a row for every unseen category).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from channelkit.data.contract import TABLES

TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
COMPACT_TABLES = frozenset({"orders", "touchpoints"})
# Text columns with few distinct values: categories in compact tables, read dictionary-encoded everywhere.
LABEL_COLUMNS = frozenset({"sku", "channel", "status", "kind", "type", "category", "brand", "event", "location"})

TextKind = Literal["label", "text"]


def text_kind(table: str, column: str) -> TextKind | None:
    """``label`` or ``text`` for a string column of a compact table; ``None`` when it stays ``object``."""
    spec = TABLES[table]
    if table not in COMPACT_TABLES or column not in spec.column_names or spec.column(column).dtype != "string":
        return None
    return "label" if column in LABEL_COLUMNS else "text"


def is_arrow_text(series: pd.Series) -> bool:
    """True for pyarrow-backed text (``string[pyarrow]``, ``str``, ``ArrowDtype(pa.string())``)."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return isinstance(dtype, pd.ArrowDtype) and _is_text_type(dtype.pyarrow_dtype)


def as_label(series: pd.Series) -> pd.Series:
    """``series`` as a category with exactly its distinct values, sorted, as categories (text kept as is)."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        values = series.astype(object) if is_arrow_text(series) else series
        return pd.Series(pd.Categorical(values), index=series.index, name=series.name)
    labels = series.cat.remove_unused_categories()
    categories = labels.cat.categories
    if not categories.is_monotonic_increasing:
        labels = labels.cat.reorder_categories(categories.sort_values())
    return labels


def as_text(series: pd.Series) -> pd.Series:
    """``series`` as pyarrow-backed text (:data:`TEXT`); missing values stay missing."""
    if series.dtype == TEXT:
        return series
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    return series.astype(TEXT)


def strip_labels(series: pd.Series) -> pd.Series:
    """A categorical column with its labels stripped, labels that become equal merged, blanks missing."""
    categories = series.cat.categories
    labels = pd.Index(categories.astype(str).str.strip(), dtype=object)
    if labels.equals(pd.Index(categories, dtype=object)) and labels.is_unique and not (labels == "").any():
        return series
    kept = pd.Index(labels[labels != ""]).unique()
    lookup = np.append(kept.get_indexer(labels), -1)  # a missing cell (code -1) stays missing
    codes = lookup[series.cat.codes.to_numpy()]
    return pd.Series(pd.Categorical.from_codes(codes, categories=kept), index=series.index, name=series.name)


def labels_to_object(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The label columns of a compact table as ``object`` text, in place (one shared string per label)."""
    for column in frame.columns:
        series = frame[column]
        if text_kind(table, column) == "label" and isinstance(series.dtype, pd.CategoricalDtype):
            lookup = np.append(series.cat.categories.to_numpy(dtype=object), np.nan).astype(object)
            frame[column] = pd.Series(lookup[series.cat.codes.to_numpy()], index=series.index, name=column)
    return frame


def set_text_dtypes(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Give ``frame``'s contract text columns the table's text types, in place.

    Compact tables: labels as :func:`as_label`, ids as :func:`as_text`. Other tables: ``object``
    (a category or Arrow column that a Parquet writer kept becomes plain text).
    """
    for column in frame.columns:
        kind = text_kind(table, column)
        series = frame[column]
        if kind == "label":
            frame[column] = as_label(series)
        elif kind == "text":
            frame[column] = as_text(series)
        elif (column in TABLES[table].column_names and TABLES[table].column(column).dtype == "string"
              and (isinstance(series.dtype, pd.CategoricalDtype) or is_arrow_text(series))):
            frame[column] = series.astype(object).where(series.notna())
    return frame


def arrow_to_frame(table: pa.Table, *, labels: tuple[str, ...] = ()) -> pd.DataFrame:
    """An Arrow table as pandas: text ``labels`` as categories, every other text column as :data:`TEXT`.

    Arrow's buffers are released column by column while converting (``self_destruct``), so the
    peak is about one copy of the numeric columns, not two; text stays in Arrow's buffers.
    """
    for name in labels:
        i = table.schema.get_field_index(name)
        if i >= 0 and _is_text_type(table.schema.field(i).type):
            table = table.set_column(i, name, table.column(i).dictionary_encode())
    mapper = {pa.string(): TEXT, pa.large_string(): TEXT}.get
    frame = table.to_pandas(types_mapper=mapper, split_blocks=True, self_destruct=True)
    del table
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, np.dtype) and not series.to_numpy().flags.writeable:
            frame[column] = frame[column].copy()  # zero-copy views of Arrow memory are read-only
    pa.default_memory_pool().release_unused()
    return frame


def read_parquet_compact(path: Path, label_columns: tuple[str, ...]) -> pd.DataFrame:
    """A Parquet file read column by column, labels dictionary-encoded (see :func:`arrow_to_frame`).

    Only one column is ever held twice (as Arrow chunks, then as the NumPy array pandas keeps),
    so the peak is the loaded frame plus one column, not the Arrow table plus the frame.
    """
    schema = pq.read_schema(path)
    labels = [c for c in label_columns if c in schema.names and _is_text_type(schema.field(c).type)]
    index = {c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
    parquet = pq.ParquetFile(path, read_dictionary=labels)
    columns = {}
    for name in [c for c in schema.names if c not in index]:  # a stored pandas index is not data
        table = parquet.read(columns=[name], use_pandas_metadata=False)
        columns[name] = arrow_to_frame(table)[name]  # labels arrive dictionary-encoded
        del table
    return pd.DataFrame(columns, copy=False)


def _is_text_type(dtype: pa.DataType) -> bool:
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype)
