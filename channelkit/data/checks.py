"""The contract's value rules on a typed table, vectorised over the column arrays.

The same rules as the pandera schemas of :mod:`channelkit.data.schemas` (which stay the way to
check a frame of your own), named the same way and reported in the order pandera reports them,
but computed as one boolean mask per rule over the columns as they are: no copy of the table, no
per-cell Python objects, so tens of millions of order lines take seconds. The rules, in order:

- the table's key: every row whose key values occur more than once (missing values count as one
  value). Keys are compared as integer codes (category codes, or ``pandas.factorize``), combined
  column by column, so text keys are hashed once;
- ``not_nullable``: empty cells in columns that must not be empty, column by column;
- per column, in contract order: ``must be >= min``, ``must be <= max``, ``must be one of ...``
  (empty cells are not range or allowed-value failures: they are ``not_nullable`` if anything);
- row rules over several columns (``ROW_RULES``, e.g. clicks <= impressions).

A column, rule or key that needs a column the frame lacks is skipped (the missing column is
reported on its own).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from channelkit.data.contract import TABLES, Column
from channelkit.data.dtypes import is_arrow_text
from channelkit.data.schemas import ROW_RULES

KEY_RULE = "duplicate key"


@dataclass(frozen=True, eq=False)
class Failure:
    """Rows that break one rule: ``rule`` as the schema names it, the columns it reads, a row mask."""

    rule: str
    columns: tuple[str, ...]
    rows: np.ndarray  # boolean, one per row of the frame
    found: tuple[str, ...] = ()  # the offending values (allowed-value rules), sorted


def _flags(mask: pd.Series | np.ndarray) -> np.ndarray:
    """A boolean mask as a NumPy bool array, missing (masked dtypes) as False."""
    if isinstance(mask, pd.Series) and mask.dtype != bool:
        return mask.to_numpy(dtype=bool, na_value=False)
    return np.asarray(mask, dtype=bool)


def column_failures(column: Column, series: pd.Series) -> list[Failure]:
    """The value failures of one contract column: range, allowed values (see module docstring)."""
    out = []
    name = (column.name,)
    if column.min is not None:
        out.append(Failure(f"must be >= {column.min:g}", name, _flags(series < column.min)))
    if column.max is not None:
        out.append(Failure(f"must be <= {column.max:g}", name, _flags(series > column.max)))
    if column.allowed is not None:
        bad = _flags(series.notna()) & ~_flags(series.isin(list(column.allowed)))
        found = tuple(sorted(series[bad].astype(str).unique())) if bad.any() else ()
        out.append(Failure(f"must be one of {', '.join(column.allowed)}", name, bad, found))
    return [f for f in out if f.rows.any()]


def _codes(series: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes ``1..n-1`` equal where the values are equal (missing values share one code)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy().astype(np.int64) + 1, len(series.cat.categories) + 1
    if is_arrow_text(series):
        # Dense ranks from Arrow's sort: no hash table holding millions of ids.
        ranks = pc.rank(series.array.__arrow_array__(), sort_keys="ascending", tiebreaker="dense")
        codes = ranks.to_numpy().astype(np.int64)
        return codes, int(codes.max(initial=0)) + 1
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64) + 1, len(uniques) + 1


def key_codes(frame: pd.DataFrame, key: tuple[str, ...] | list[str]) -> np.ndarray:
    """One int64 code per row such that two rows share a code iff they share every key value.

    Missing values count as one value. Category columns use their codes, Arrow text its dense
    sort ranks, other columns ``pandas.factorize``; columns combine as ``code * n + next``.
    """
    combined = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for name in key:
        codes, n = _codes(frame[name])
        if size * n >= 2**62:  # renumber the combination so far before it could overflow
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined = combined * n + codes
        size *= n
    return combined


def duplicate_rows(frame: pd.DataFrame, key: tuple[str, ...] | list[str]) -> np.ndarray:
    """Boolean mask of every row whose key occurs more than once (all copies, as pandas' keep=False).

    Sorts the key codes once and compares neighbours (less memory than a hash table of rows).
    """
    codes = key_codes(frame, key)
    order = np.argsort(codes, kind="stable")
    same = np.diff(codes[order]) == 0
    del codes
    flag = np.zeros(len(order), dtype=bool)
    flag[1:] |= same
    flag[:-1] |= same
    out = np.empty_like(flag)
    out[order] = flag
    return out


def table_failures(table: str, frame: pd.DataFrame) -> list[Failure]:
    """Every rule ``frame`` breaks as a contract ``table`` (in the module docstring's order)."""
    spec = TABLES[table]
    present = [c for c in spec.columns if c.name in frame.columns]
    out: list[Failure] = []
    if spec.key and set(spec.key) <= set(frame.columns):
        out.append(Failure(KEY_RULE, spec.key, duplicate_rows(frame, spec.key)))
    out += [Failure("not_nullable", (c.name,), _flags(frame[c.name].isna())) for c in present if not c.nullable]
    for column in present:
        out += column_failures(column, frame[column.name])
    for label, columns, function in ROW_RULES.get(table, []):
        if set(columns) <= set(frame.columns):
            out.append(Failure(label, tuple(columns), ~_flags(function(frame))))
    return [f for f in out if f.rows.any()]
